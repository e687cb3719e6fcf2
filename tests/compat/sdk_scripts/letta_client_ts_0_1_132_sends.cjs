// Drives the group sends of @letta-ai/letta-client 0.1.132 (Letta's Fern-generated TypeScript SDK) against a server
// and prints what it saw, as JSON. Run by tests/compat/test_sdk_generation_sends.py with node; argv[2] is a JSON
// object: `baseUrl`, `project`. The client keeps the SDK's DEFAULT retry settings (2 retries of 408/409/429/5xx);
// a wrapper around the global fetch (which the SDK uses on Node 18+) records what every send answered, so the SDK's
// own retries are visible in `calls`. This SDK has no `input` shorthand and no group async send (raw fetch below).
const { LettaClient } = require("@letta-ai/letta-client");

const RUN_ID = /run-[0-9a-f-]{36}/;
const calls = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const answer = await realFetch(url, init);
  const path = new URL(String(url)).pathname;
  if (init && init.method === "POST" && path.includes("/messages")) {
    calls.push([path, answer.status, answer.status >= 400 ? await answer.clone().json() : null]);
  }
  return answer;
};
const callsOf = (groupId) => calls.filter(([path]) => path.includes(`/groups/${groupId}/`)).map(([, status, body]) => [status, body]);

const said = (messages) => messages.map((m) => [m.messageType, m.name ?? null]);
const say = (text) => ({ messages: [{ role: "user", content: text }] });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// The server's built-in offline model with a fault spec (lettagroups/agent/providers/offline_faults.py). This SDK
// validates modelEndpointType against its enum, which has no "offline", so agents configured with it are created
// with a plain fetch (`faulty` below); everything else about them goes through the SDK.
const offline = (faults) => ({ model: `letta-offline?${faults}`, model_endpoint_type: "offline", context_window: 16384 });

async function collect(stream) {
  const out = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}
const chunks = (items) => items.map((c) => [c.messageType, c.name ?? null, c.id ?? null]);

function response(r) {
  return {
    messages: said(r.messages),
    usage: r.usage,
    stopReason: r.stopReason ?? null,
  };
}

async function main({ baseUrl, project }) {
  const client = new LettaClient({ baseUrl });
  const out = { version: require("@letta-ai/letta-client/package.json").version };
  const agents = [];
  const groups = [];
  const agent = async (name, extra = {}) => {
    const made = await client.agents.create({ name, memoryBlocks: [{ label: "persona", value: `I am ${name}` }], projectId: project, ...extra });
    agents.push(made.id);
    return made.id;
  };
  const faulty = async (name, llmConfig) => {
    const answer = await realFetch(`${baseUrl}/v1/agents/`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name, memory_blocks: [{ label: "persona", value: `I am ${name}` }], project_id: project, llm_config: llmConfig }),
    });
    if (answer.status !== 200) throw new Error(`agent ${name}: ${answer.status} ${await answer.text()}`);
    const made = await answer.json();
    agents.push(made.id);
    return made.id;
  };
  const group = async (agentIds, extra = {}) => {
    const made = await client.groups.create({ agentIds, description: "sends", project, ...extra });
    groups.push(made.id);
    return made.id;
  };
  const finished = async (runId) => {
    const deadline = Date.now() + 30000;
    let run;
    while (!["completed", "failed", "cancelled"].includes((run = await client.runs.retrieve(runId)).status) && Date.now() < deadline) await sleep(100);
    return run;
  };
  const transcript = async (groupId) =>
    (await client.groups.messages.list(groupId, { limit: 100 })).map((m) => [m.messageType, m.name ?? null, m.content ?? null]);

  const fred = await agent("fred");
  const velma = await agent("velma");
  const rr = await group([fred, velma]);

  // --- sync sends: a string, text content parts, includeReturnMessageTypes; `input` is not in this SDK ---------
  out.sync = response(await client.groups.messages.create(rr, say("clue one")));
  out.parts = response(await client.groups.messages.create(rr, { messages: [{ role: "user", content: [{ type: "text", text: "a list of parts" }] }] }));
  out.includeSync = response(await client.groups.messages.create(rr, { ...say("replies only"), includeReturnMessageTypes: ["assistant_message"] }));
  const before = calls.length;
  try {
    await client.groups.messages.create(rr, { input: "shorthand" });
    out.inputShorthand = "sent";
  } catch (err) {
    out.inputShorthand = [err.constructor.name, calls.length - before];
  }

  // --- streams: step mode, tokens, includeReturnMessageTypes ----------------------------------------------------
  out.streamSteps = chunks(await collect(await client.groups.messages.createStream(rr, say("stream steps"))));
  const tokens = await collect(await client.groups.messages.createStream(rr, { ...say("stream tokens"), streamTokens: true }));
  out.streamTokens = chunks(tokens);
  out.streamTokensText = {};
  for (const c of tokens) if (c.messageType === "assistant_message") out.streamTokensText[c.id] = (out.streamTokensText[c.id] ?? "") + c.content;
  out.streamUsage = tokens[tokens.length - 1];
  out.streamIncludeSteps = chunks(
    await collect(await client.groups.messages.createStream(rr, { ...say("steps, replies only"), includeReturnMessageTypes: ["assistant_message"] })),
  );
  out.streamIncludeTokens = chunks(
    await collect(
      await client.groups.messages.createStream(rr, { ...say("tokens, thoughts only"), streamTokens: true, includeReturnMessageTypes: ["reasoning_message"] }),
    ),
  );

  // --- async send (raw fetch: no group method in this SDK), then the run through the SDK's runs API -----------
  const started = await (
    await realFetch(`${baseUrl}/v1/groups/${rr}/messages/async`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(say("async clue")) })
  ).json();
  const done = await finished(started.id);
  const pages = async (order) => {
    const seen = [];
    let page = await client.runs.messages.list(started.id, { limit: 1, order });
    while (page.length) {
      seen.push(...page);
      page = await client.runs.messages.list(started.id, { limit: 1, order, after: page[page.length - 1].id });
    }
    return said(seen);
  };
  out.async = {
    started: [started.status, started.metadata.group_id],
    finished: [done.status, done.metadata.stop_reason, done.completedAt instanceof Date],
    messages: said(await client.runs.messages.list(started.id)),
    messagesPagesAsc: await pages("asc"),
    messagesPagesDesc: await pages("desc"),
    usage: await client.runs.usage.retrieve(started.id),
  };
  const listed = await transcript(rr);
  out.transcript = {
    inputs: listed.filter(([kind]) => kind === "user_message").map(([, , content]) => content),
    replies: listed.filter(([kind]) => kind === "assistant_message").length,
    streamedText: Object.fromEntries(
      (await client.groups.messages.list(rr, { limit: 100 })).filter((m) => m.messageType === "assistant_message" && m.id in out.streamTokensText).map((m) => [m.id, m.content]),
    ),
  };

  // --- sleeptime: the background runs in usage.runIds ----------------------------------------------------------
  const sleepy = await client.agents.create({ name: "sleepy", memoryBlocks: [{ label: "persona", value: "I am sleepy" }], enableSleeptime: true, projectId: project });
  agents.push(sleepy.id);
  const slept = await client.groups.messages.create(sleepy.multiAgentGroup.id, say("sleep on it"));
  out.sleeptime = { ...response(slept), background: [] };
  for (const runId of slept.usage.runIds ?? []) out.sleeptime.background.push([runId, (await finished(runId)).status]);

  // --- retry safety with the SDK's default retries: a run rate-limited long enough to fail once ----------------
  const flaky = await group([fred, await faulty("velma-flaky", offline("fail=throttle&times=4"))]);
  const t0 = Date.now();
  const recovered = await client.groups.messages.create(flaky, say("a flaky clue"));
  const flakyCalls = callsOf(flaky);
  const failedRun = flakyCalls.length && flakyCalls[0][1] ? JSON.stringify(flakyCalls[0][1]).match(RUN_ID) : null;
  out.retry = {
    ...response(recovered),
    seconds: Math.round((Date.now() - t0) / 100) / 10,
    calls: flakyCalls,
    run: failedRun ? [failedRun[0], (await client.runs.retrieve(failedRun[0])).status] : null,
    transcript: await transcript(flaky),
  };

  // --- a model that refuses for good: raised once, not retried ---------------------------------------------------
  const broken = await group([fred, await faulty("velma-broken", offline("fail=bad_request"))]);
  try {
    await client.groups.messages.create(broken, say("a doomed clue"));
    out.refusal = { raised: null };
  } catch (err) {
    const named = JSON.stringify(err.body ?? null).match(RUN_ID);
    out.refusal = {
      raised: [err.constructor.name, err.statusCode, err.body],
      calls: callsOf(broken),
      run: named ? [named[0], (await client.runs.retrieve(named[0])).status] : null,
      transcript: await transcript(broken),
    };
  }
  // and streamed, the same failure is an error event after fred's turn (contract §6): yielded, not thrown
  const failing = await collect(await client.groups.messages.createStream(broken, say("a doomed stream")));
  out.refusal.stream = failing.map((c) => [c.messageType ?? null, c.name ?? null, c.error ?? null]);

  // --- clean up ----------------------------------------------------------------------------------------------------
  for (const groupId of groups) await client.groups.delete(groupId);
  for (const agentId of agents) await client.agents.delete(agentId);
  return out;
}

main(JSON.parse(process.argv[2]))
  .then((out) => console.log(JSON.stringify(out)))
  .catch((err) => {
    console.error(err && err.stack ? err.stack : err, err && err.body ? JSON.stringify(err.body) : "");
    process.exit(1);
  });
