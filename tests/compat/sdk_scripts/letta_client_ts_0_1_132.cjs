// Drives @letta-ai/letta-client 0.1.132 (Letta's Fern-generated TypeScript SDK) against a server and prints what
// it saw, as JSON. Run by tests/compat/test_sdk_generations.py with node; argv[2] is a JSON object: `baseUrl`,
// `project` (a fresh project: the script's groups and agents live there) and `transcript` (a group with a
// transcript of several pages). The SDK validates every response against its schemas, so a missing or mistyped
// field fails the call. It has no auto-pagination and no `order`: it pages by hand with `after`/`before`.
const { LettaClient, LettaError } = require("@letta-ai/letta-client");

const ids = (items) => items.map((item) => item.id);
const parts = (items) => items.map((m) => [m.id, m.messageType]);

async function status(call) {
  try {
    await call();
    return 200;
  } catch (err) {
    if (err instanceof LettaError) return err.statusCode;
    throw err;
  }
}

async function main({ baseUrl, project, transcript }) {
  const client = new LettaClient({ baseUrl });
  const out = { version: require("@letta-ai/letta-client/package.json").version };

  // --- agents ---------------------------------------------------------------------------------------
  const fred = await client.agents.create({
    name: "fred",
    memoryBlocks: [{ label: "persona", value: "I am fred" }, { label: "human", value: "Sarah" }],
    projectId: project,
  });
  const velma = await client.agents.create({ name: "velma", memoryBlocks: [{ label: "persona", value: "I am velma" }], projectId: project });
  out.agents = { fred: fred.id, velma: velma.id, fredLabels: fred.memory.blocks.map((b) => b.label) };
  out.agentRetrieved = (await client.agents.retrieve(fred.id)).name;

  // --- groups: create (X-Project), retrieve, modify, count ------------------------------------------------
  const countBefore = await client.groups.count();
  const rr = await client.groups.create({ agentIds: [fred.id, velma.id], description: "rr", project, managerConfig: { managerType: "round_robin", maxTurns: 2 } });
  const sup = await client.groups.create({ agentIds: [fred.id], description: "sup", project, managerConfig: { managerType: "supervisor", managerAgentId: velma.id } });
  const more = [];
  for (let i = 0; i < 3; i++) more.push(await client.groups.create({ agentIds: [], description: `more-${i}`, project }));
  const all = [rr.id, sup.id, ...ids(more)];
  out.groups = all;
  out.created = { project: rr.project_id, maxTurns: rr.maxTurns, supervisor: [sup.managerType, sup.managerAgentId] };
  out.countDeltaAfterCreate = (await client.groups.count()) - countBefore;
  out.retrieved = (await client.groups.retrieve(rr.id)).description;
  const modified = await client.groups.modify(rr.id, { description: "modified", project: `${project}-elsewhere`, managerConfig: { managerType: "round_robin", maxTurns: 3 } });
  out.modified = [modified.description, modified.maxTurns, modified.project_id];
  await client.groups.modify(rr.id, { project });

  // --- groups: list with filters and hand-made cursors --------------------------------------------------
  out.listAll = ids(await client.groups.list({ projectId: project }));
  out.listSupervisor = ids(await client.groups.list({ projectId: project, managerType: "supervisor" }));
  const forward = [];
  let page = await client.groups.list({ projectId: project, limit: 2 });
  while (page.length) {
    forward.push(...ids(page));
    page = await client.groups.list({ projectId: project, limit: 2, after: page[page.length - 1].id });
  }
  out.listForwardPages = forward;
  const backward = [];
  page = await client.groups.list({ projectId: project, limit: 2, before: all[all.length - 1] });
  while (page.length) {
    backward.unshift(...ids(page));
    page = await client.groups.list({ projectId: project, limit: 2, before: page[0].id });
  }
  out.listBackwardPages = backward;

  // --- groups: delete ------------------------------------------------------------------------------------
  const countBeforeDelete = await client.groups.count();
  out.deleted = await client.groups.delete(more[0].id);
  out.countDeltaAfterDelete = (await client.groups.count()) - countBeforeDelete;
  out.retrieveDeleted = await status(() => client.groups.retrieve(more[0].id));

  // --- group messages: 0.7.7's pages (newest `limit`, oldest first), paged by hand ------------------------
  let messages = await client.groups.messages.list(transcript, { limit: 4 });
  out.messagesFirstPage = parts(messages);
  const older = [];
  while (messages.length) {
    older.unshift(...parts(messages));
    messages = await client.groups.messages.list(transcript, { limit: 4, before: messages[0].id });
  }
  out.messagesBackwardPages = older;
  const oldest = older[0][0];
  const newer = older.filter((p) => p[0] === oldest); // the oldest message itself, then every page after it
  messages = await client.groups.messages.list(transcript, { limit: 4, after: oldest });
  while (messages.length) {
    newer.push(...parts(messages));
    messages = await client.groups.messages.list(transcript, { limit: 4, after: messages[messages.length - 1].id });
  }
  out.messagesForwardPages = newer;

  // --- core memory and block agents -------------------------------------------------------------------------
  out.blocks = (await client.agents.blocks.list(fred.id)).map((b) => b.label);
  out.blockRetrieved = (await client.agents.blocks.retrieve(fred.id, "human")).value;
  out.blockModified = (await client.agents.blocks.modify(fred.id, "human", { value: "Sarah likes clues", limit: 6000 })).limit;
  const human = await client.agents.blocks.retrieve(fred.id, "human");
  out.attachedLabels = (await client.agents.blocks.attach(velma.id, human.id)).memory.blocks.map((b) => b.label).sort();
  out.blockAgents = ids(await client.blocks.agents.list(human.id));
  out.detachedLabels = (await client.agents.blocks.detach(velma.id, human.id)).memory.blocks.map((b) => b.label).sort();
  out.blockAgentsAfterDetach = ids(await client.blocks.agents.list(human.id));
  out.attachClash = await status(async () => {
    const other = await client.blocks.create({ label: "human", value: "someone else" });
    try {
      await client.agents.blocks.attach(fred.id, other.id);
    } finally {
      await client.blocks.delete(other.id);
    }
  });

  // --- enable_sleeptime on a sleeptime_agent -------------------------------------------------------------------
  const sleepy = await client.agents.create({ name: "sleepy", agentType: "sleeptime_agent", enableSleeptime: true, projectId: project });
  const group = sleepy.multiAgentGroup;
  out.sleeptime = group ? [group.managerType, group.managerAgentId === sleepy.id, group.agentIds.length] : null;

  // --- clean up ---------------------------------------------------------------------------------------------------
  for (const groupId of [rr.id, sup.id, ...ids(more.slice(1))]) await client.groups.delete(groupId);
  for (const agentId of [sleepy.id, fred.id, velma.id]) await client.agents.delete(agentId);
  out.agentsLeft = ids(await client.agents.list({ projectId: project }));
  return out;
}

main(JSON.parse(process.argv[2]))
  .then((out) => console.log(JSON.stringify(out)))
  .catch((err) => {
    console.error(err && err.stack ? err.stack : err, err && err.body ? JSON.stringify(err.body) : "");
    process.exit(1);
  });
