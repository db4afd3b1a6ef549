/** The text every fake model answers with: ASCII words, about `chars` long, split into `chunks` pieces. */

const WORDS =
  'the answer weighs each option against the constraints that matter most and then names the trade offs plainly so a reader can act on it with confidence while noting what remains uncertain'.split(
    ' ',
  );

export function answerText(chars: number): string {
  let text = '';
  for (let index = 0; text.length < chars; index++) text += `${WORDS[index % WORDS.length]} `;
  return `${text.slice(0, Math.max(1, chars - 1)).trimEnd()}.`;
}

export function answerPieces(text: string, count: number): string[] {
  const size = Math.ceil(text.length / Math.max(1, count));
  const out: string[] = [];
  for (let start = 0; start < text.length; start += size) out.push(text.slice(start, start + size));
  return out;
}
