"""What the tests share, each piece defined once; tests import it as `support.<module>` (pyproject puts tests/ on
pytest's `pythonpath`). Fixtures stay in the conftest.py files. tests/unit/test_tests_layout.py checks that no helper
module lies loose in a test folder and that no module imports a test module, a conftest.py or such a loose module.

- builders: agents, blocks, groups and requests through the logic layer; the in-process send.
- runs: waiting for a run to finish (logic layer, raw HTTP, letta-client); a group's run records.
- transcripts: a group's transcript (logic layer, raw HTTP) and the replies in it.
- model_calls: records of what the model was asked and answered; the texts a call received.
- group_run: driving the group-run task as the state machine does (one turn in process; a whole run through a
  packaged function).
- events: the events/*.json samples, their placeholder ids, and invoking a routed handler with one.
- shapes: contract wire shapes (the tests' oracle) and the checks of error bodies.
- trackers: objects created on the local server (letta-client, raw HTTP) and deleted at teardown.
- sdk: letta-client 0.1.138 request pieces and failed-call checks; where the other SDK generations' scripts and
  packages live.
- sse: a strict SSE reader and the group stream route's request.
- swarm: what a handoff looks like in a transcript.
- servers: the local server in a subprocess; waiting until a server process serves, stopping it; closed ports.
- fake_openai: a scripted OpenAI-compatible server on a loopback socket.
- packaged: built functions run as Lambda runs them; the import closure of their code.
"""
