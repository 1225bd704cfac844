/**
 * The MCP App of `ops_get`: the agent run's plan as a list of steps (tool, why, risk, state, result
 * or error), which steps wait for a person, and Approve / Reject buttons. The buttons call
 * `approvals_decide` through the host as the person in the chat — the approvals rules apply
 * unchanged (the requester's own refusal is shown as the tool gave it); a host that does not proxy
 * tool calls gets the call to make instead. The per-run resource embeds the run.
 */
import { AnvilError, ErrorCodes, mcpApp, type McpApp } from 'anvil/plugin';
import type { AgentRuntime } from '../../../graphs/agent/runtime.ts';
import { AGENT_SCOPES } from './schemas.ts';

const script = String.raw`
function anvilRender(data, root, kit) {
  var run = data.result || {};
  var plan = run.plan || { steps: [] };
  var finalStatus = { succeeded: 'pass', failed: 'fail', rejected: 'fail', canceled: 'fail' };
  var stateClass = function (state) { return state === 'succeeded' ? 'pass' : state === 'failed' || state === 'rejected' ? 'fail' : 'insufficient'; };
  var short = function (value) { var text = typeof value === 'string' ? value : JSON.stringify(value); return text && text.length > 400 ? text.slice(0, 399) + '…' : text; };
  var redraw = function (next, notice) { while (root.firstChild) root.removeChild(root.firstChild); anvilRender({ result: next, notice: notice }, root, kit); };

  root.appendChild(kit.el('h1', null, 'Agent run: ' + run.command));
  root.appendChild(kit.el('p', null, [
    kit.el('span', { class: 'badge ' + (finalStatus[run.status] || 'insufficient'), 'data-status': run.status }, run.status),
    ' planned by ' + run.planner + (run.dryRun ? ' · dry run (nothing runs)' : '') + ' · updated ' + run.updatedAt,
  ]));
  if (run.error) root.appendChild(kit.el('p', { class: 'error' }, 'Error' + (run.error.step ? ' at ' + run.error.step : '') + ': ' + run.error.code + ' — ' + run.error.message));
  if (plan.question) root.appendChild(kit.el('p', null, plan.question));
  if (data.notice) root.appendChild(kit.el('p', { class: 'notice', role: 'status' }, data.notice));

  var stateOf = {};
  (run.steps || []).forEach(function (step) { stateOf[step.id] = step; });
  var needsApproval = {};
  (run.approvalRequired || []).forEach(function (id) { needsApproval[id] = true; });

  root.appendChild(kit.el('h2', null, 'Plan'));
  if (plan.steps.length === 0) root.appendChild(kit.el('p', { class: 'muted' }, 'No steps planned.'));
  var list = kit.el('ol', { class: 'steps', 'aria-label': 'plan steps' });
  root.appendChild(list);
  plan.steps.forEach(function (planned) {
    var step = stateOf[planned.id] || { state: 'pending', result: null, error: null, approvalId: null };
    var item = kit.el('li', { 'data-step': planned.id, class: 'step' }, [
      kit.el('div', null, [
        kit.el('code', { class: 'tool' }, planned.tool), ' ',
        kit.el('span', { class: 'badge risk-' + planned.risk }, planned.risk), ' ',
        kit.el('span', { class: 'badge ' + stateClass(step.state), 'data-state': step.state }, step.state.replace('_', ' ')),
        needsApproval[planned.id] && step.state === 'pending' ? kit.el('span', { class: 'muted' }, ' · will wait for approval') : null,
        step.approvalId && (step.state === 'started' || step.state === 'succeeded' || step.state === 'failed') ? kit.el('span', { class: 'muted' }, ' · approved') : null,
      ]),
      kit.el('div', { class: 'why' }, planned.why),
      step.error ? kit.el('div', { class: 'error' }, step.error.code + ': ' + step.error.message) : null,
      step.result !== null && step.result !== undefined ? kit.el('pre', { class: 'result' }, short(step.result)) : null,
    ]);
    if (step.state === 'waiting_approval' && step.approvalId) item.appendChild(approvalBox(planned, step));
    list.appendChild(item);
  });

  function approvalBox(planned, step) {
    var status = kit.el('p', { class: 'decision', role: 'status' });
    var approve = kit.el('button', { type: 'button', 'data-decision': 'approve' }, 'Approve');
    var reject = kit.el('button', { type: 'button', 'data-decision': 'deny' }, 'Reject');
    var box = kit.el('div', { class: 'approval', role: 'group', 'aria-label': 'approval of step ' + planned.id }, [
      kit.el('p', null, ['Waits for a person: approval ', kit.el('code', null, step.approvalId), step.argsHash ? ' covers only the arguments hashing to ' : '', step.argsHash ? kit.el('code', null, String(step.argsHash).slice(0, 12) + '…') : '', '. Planned arguments (references resolved from earlier steps):']),
      kit.el('pre', { class: 'result' }, short(planned.args)),
      approve, ' ', reject, status,
      kit.el('p', { class: 'muted' }, 'Or ask your assistant: approvals_decide {"id": "' + step.approvalId + '", "decision": "approve" | "deny"}. The person who asked for the run cannot approve it.'),
    ]);
    function decide(decision) {
      if (!kit.canCallTools()) {
        status.className = 'decision muted';
        status.textContent = 'This host cannot call tools from here: use approvals_decide with id ' + step.approvalId + ' and decision "' + decision + '".';
        return;
      }
      approve.disabled = true; reject.disabled = true;
      status.className = 'decision muted';
      status.textContent = decision === 'approve' ? 'Approving…' : 'Rejecting…';
      kit.callToolResult('approvals_decide', { id: step.approvalId, decision: decision }).then(function (outcome) {
        if (!outcome || outcome.isError) {
          // The approvals rules decide, not this page: their refusal is shown as given.
          status.className = 'decision error';
          status.setAttribute('role', 'alert');
          status.textContent = 'Refused: ' + (outcome ? outcome.text : 'the host did not pass the call on');
          approve.disabled = false; reject.disabled = false;
          return;
        }
        var approval = outcome.structuredContent && outcome.structuredContent.approval;
        var notice = 'Step ' + planned.id + ' ' + (approval ? approval.state : decision) + (approval && approval.decidedBy ? ' by ' + approval.decidedBy : '') + '.';
        status.className = 'decision';
        status.textContent = notice;
        follow(planned.id, notice, JSON.stringify(run), 40);
      });
    }
    approve.addEventListener('click', function () { decide('approve'); });
    reject.addEventListener('click', function () { decide('deny'); });
    return box;
  }

  // After a decision the run moves on by itself: re-read it (redrawing on change) until the decided step has left waiting_approval and the run is not running.
  function follow(stepId, notice, seen, triesLeft) {
    kit.callTool('ops_get', { runId: run.runId }).then(function (next) {
      if (!next) return;
      var text = JSON.stringify(next);
      if (text !== seen) redraw(next, notice);
      var decided = (next.steps || []).filter(function (s) { return s.id === stepId; })[0];
      var settled = next.status !== 'running' && !(decided && decided.state === 'waiting_approval');
      if (!settled && triesLeft > 0) setTimeout(function () { follow(stepId, notice, text, triesLeft - 1); }, 500);
    });
  }
}
`;

const style = `
.steps { padding-left: 20px; margin: 4px 0; } .step { margin: 0 0 10px; }
.why { color: var(--muted); font-size: 12px; }
.result { font-size: 11px; white-space: pre-wrap; word-break: break-word; margin: 4px 0; max-height: 8em; overflow: auto; }
.risk-read { background: #e0f2fe; color: #075985; } .risk-write { background: #fef3c7; color: #92400e; }
.risk-destructive, .risk-spend { background: #fee2e2; color: #991b1b; }
.approval { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; margin: 6px 0; }
.approval button { font: inherit; padding: 3px 12px; margin: 2px 0; border-radius: 4px; border: 1px solid var(--line); background: var(--bg); color: var(--fg); cursor: pointer; }
.approval button[data-decision="approve"] { border-color: #059669; } .approval button[data-decision="deny"] { border-color: #dc2626; }
.approval button:focus-visible { outline: 2px solid #2563eb; outline-offset: 1px; }
.decision { margin: 4px 0; } .notice { font-weight: 600; }
`;

export function runApp(runtime: () => AgentRuntime): McpApp {
  return mcpApp({
    name: 'agent-run',
    uri: 'ui://anvil/agent/run',
    title: 'Agent run',
    description: 'An ops agent run’s plan, step by step, with Approve / Reject for the steps that wait for a person',
    scopes: [AGENT_SCOPES.read],
    script,
    style,
    async load(id, { project }) {
      const run = await runtime().view(project, id);
      // The same answer as ops_get for an id that is another project's or nobody's (a huge id is not echoed whole).
      if (!run) throw new AnvilError(ErrorCodes.NOT_FOUND, `id: no agent run "${id.slice(0, 64)}" in this project`, { details: { field: 'id' } });
      return { result: run };
    },
    idOf: (output) => (typeof output.runId === 'string' ? output.runId : undefined),
  });
}
