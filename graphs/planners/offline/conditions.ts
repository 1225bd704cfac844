/**
 * Conditions and clauses of a command: "retrain X and roll it out to 10% if it beats the champion"
 * → clauses ["retrain X", "roll it out to 10%"] with the second gated on "beats the champion".
 */
const ACTION_VERBS =
  'roll|rollout|deploy|promote|canary|evaluate|eval|compare|cancel|kill|stop|show|list|train|retrain|refund|pay|send|capture|confirm|revoke|approve|deny|' +
  'delete|drop|create|import|ingest|reindex|search|ask|monitor|shadow|set|route|shift|split|tell|check|give|make|start|launch|run|release|ship|serve|' +
  'build|tail|print|get|open|reconcile|explain|mark|tag|alias|go|send|move|revert|undo|restore|abort|watch|grant|allow|find|look|publish';

const SPLIT = new RegExp(String.raw`\s*(?:;|,?\s*\band then\b|,?\s*\bafter that\b|,?\s*\bthen\b|,\s*and\b|\band\b(?=\s+(?:also\s+)?(?:(?:once|when|after)\s+(?:it\s+is\s+|it's\s+)?(?:done|finished|complete)\s+)?(?:${ACTION_VERBS})\b))\s*`, 'iu');

const BEATS =
  String.raw`(?:beats?|outperforms?|is better than|does better than|performs better than|improves on|wins against|scores higher than|is at least as good as)\s+(?:the\s+)?(?:current\s+)?(?:champion|production|prod|baseline|live)(?:\s+(?:model|version|one))?`;
const CONDITION = new RegExp(
  String.raw`(?:,\s*)?\b(?:but\s+)?(?:only\s+)?(?:if|when|provided(?:\s+that)?|as long as|in case)\s+(?:(?:it|the\s+[\w-]+(?:\s+[\w-]+)?|that|this|[\w-]+)\s+)?(?:${BEATS}|(?:is|comes out|turns out|it's|does)\s+better|better|wins|is an improvement)\s*,?`,
  'iu',
);

export interface Clause {
  readonly text: string;
  /** Runs only if the candidate beats the champion. */
  readonly gated: boolean;
}

/** Splits a command into clauses and marks those a "beats the champion" condition gates. */
export function clausesOf(command: string): Clause[] {
  const match = CONDITION.exec(command);
  const conditionAt = match?.index ?? -1;
  const text = match ? `${command.slice(0, match.index)} ${command.slice(match.index + match[0].length)}` : command;
  const pieces = text.split(SPLIT).map((piece) => piece.trim().replace(/^(?:and|also|please)\s+/iu, '').replace(/^(?:once|when|after)\s+(?:it\s+is\s+|it's\s+)?(?:done|finished|complete)\s+/iu, '').replace(/[.!?,]+$/u, '').trim()).filter((piece) => piece.length > 0);
  if (!match) return pieces.map((piece) => ({ text: piece, gated: false }));
  // The condition gates the clause it was said in and every later one; said first ("if it beats
  // the champion, promote it") it gates everything.
  const before = command.slice(0, conditionAt).split(SPLIT).filter((piece) => piece.trim().length > 0).length;
  const firstGated = conditionAt === 0 || before === 0 ? 0 : Math.max(0, before - 1);
  // "retrain X and roll it out if it beats": the condition sits at the end of clause 2 → gate from 2.
  return pieces.map((piece, index) => ({ text: piece, gated: index >= Math.max(firstGated, pieces.length > 1 && conditionAt > 0 ? 1 : 0) }));
}
