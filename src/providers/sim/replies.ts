import { createHash } from 'node:crypto';
import type { GenerateRequest } from '../spec.js';

/**
 * What the simulator writes: deterministic text for a given model and input
 * that says plainly it is simulated, in the shape the prompt asks for — a
 * prompt that asks for a `FINAL RANKING:` of the `Response X` answers it
 * shows gets a review of each and a valid ranking, so every example shows
 * real structure without a key.
 */

const OPENINGS = [
  'A useful way to approach this is to separate what is known from what is assumed.',
  'The question turns on a few concrete trade-offs.',
  'Three considerations stand out here.',
  'It helps to start from the constraints and work outwards.',
];
const MIDDLES = [
  'The strongest argument is the one that survives the most specific objections.',
  'Costs that arrive late are easy to underestimate, so they deserve explicit weight.',
  'Where the evidence is thin, a reversible first step beats a bold commitment.',
  'Agreement between independent views is informative only when their reasons differ.',
];
const CLOSINGS = [
  'In short: decide on the evidence you have, and plan to revisit it.',
  'The practical next step is a small experiment that tests the riskiest assumption.',
  'On balance, the cautious option keeps the most future choices open.',
  'The best answer combines the clearest reasoning with an honest account of uncertainty.',
];
const VERDICTS = [
  'Clear and specific, though it leaves the main risk implicit.',
  'Well reasoned; it would be stronger with one concrete example.',
  'Covers the trade-offs, but hedges where a recommendation was asked for.',
  'Direct and practical; the weakest part is its account of uncertainty.',
];

function pick(list: readonly string[], digest: Buffer, index: number): string {
  return list[digest[index % digest.length]! % list.length]!;
}

/** The question a stage prompt is about: its `## Question` section, else the prompt's start. */
function topicOf(text: string): string {
  const question = /^##[ \t]*Question[ \t]*\r?\n+([^\n]+)/im.exec(text)?.[1] ?? text;
  const topic = question.replace(/\s+/g, ' ').trim().slice(0, 60);
  return `${topic}${topic.length === 60 ? '…' : ''}`;
}

/** The anonymous answers a prompt shows (`### Response A` headings), in order. */
function shownLabels(text: string): string[] {
  const labels: string[] = [];
  for (const match of text.matchAll(/^###[ \t]+(Response [A-Z]{1,3})[ \t]*$/gm))
    if (!labels.includes(match[1]!)) labels.push(match[1]!);
  return labels;
}

/**
 * Whether the prompt itself asks for a `FINAL RANKING` — not merely quotes
 * reviews that contain one: the text of every quoted block (a `###` heading
 * up to the next `##` section) is left out before looking.
 */
function asksForRanking(text: string): boolean {
  const own = text.replace(/^###[ \t][^\n]*\n[\s\S]*?(?=^##[ \t]|(?![\s\S]))/gm, '');
  return /final[ \t]*ranking/i.test(own);
}

/** The labels in an order the digest decides (a Fisher–Yates shuffle driven by its bytes). */
function rankedOrder(labels: readonly string[], digest: Buffer): string[] {
  const order = [...labels];
  for (let index = order.length - 1; index > 0; index--) {
    const swap = digest[(index + 3) % digest.length]! % (index + 1);
    [order[index], order[swap]] = [order[swap]!, order[index]!];
  }
  return order;
}

export function simulatedText(modelId: string, request: GenerateRequest): string {
  const input = `${request.system ?? ''}\u0000${request.messages.map((message) => message.content).join('\u0000')}`;
  const digest = createHash('sha256').update(modelId).update('\u0000').update(input).digest();
  const last = request.messages.at(-1)?.content ?? '';
  const intro = `[Simulated answer from ${modelId}: no real model was called.]`;
  const labels = asksForRanking(last) ? shownLabels(last) : [];
  if (labels.length > 0) {
    const reviews = labels.map((label, index) => `### ${label}\n${pick(VERDICTS, digest, index + 4)}`);
    const ranking = rankedOrder(labels, digest).map((label, index) => `${index + 1}. ${label}`);
    return [
      `${intro} A simulated review of the answers to "${topicOf(last)}".`,
      ...reviews,
      `FINAL RANKING:\n${ranking.join('\n')}`,
    ].join('\n\n');
  }
  return [
    intro,
    `On "${topicOf(last)}":`,
    pick(OPENINGS, digest, 0),
    pick(MIDDLES, digest, 1),
    pick(CLOSINGS, digest, 2),
  ].join(' ');
}
