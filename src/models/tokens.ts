import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';

/** How the tokens of one model's input are counted. */
export interface TokenCounter {
  /** `gpt-tokenizer o200k_base`, or what the estimate is based on. */
  name: string;
  /** False when the model's family has no public tokenizer and the count is an estimate. */
  exact: boolean;
  count(text: string): number;
}

/** Text is counted in pieces of at most this many characters, cut at whitespace where there is some. */
const PIECE = 2_000;
/** A run this long without whitespace is cut anyway (BPE merges grow with the square of a word's length). */
const HARD_PIECE = 256;

/**
 * Counts `text` piece by piece. A prompt under PIECE characters is one piece
 * (the exact count); a longer one is cut at whitespace, where the tokenizer
 * splits anyway, and a long run without any (CJK, base64) every HARD_PIECE
 * characters, which may add a token per cut: the price of never spending
 * seconds on one pathological prompt.
 */
export function countInPieces(count: (text: string) => number, text: string): number {
  if (text.length <= PIECE) return count(text);
  let total = 0;
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + PIECE, text.length);
    if (end < text.length) {
      const space = text.slice(start, end).search(/\s\S*$/);
      end = space > 0 ? start + space : start + HARD_PIECE;
      // Never between the two halves of a surrogate pair.
      const code = text.charCodeAt(end);
      if (code >= 0xdc00 && code <= 0xdfff) end -= 1;
    }
    const piece = text.slice(start, end);
    // A piece without whitespace longer than HARD_PIECE is cut again.
    if (!/\s/.test(piece) && piece.length > HARD_PIECE) {
      for (let at = 0; at < piece.length; ) {
        let cut = Math.min(at + HARD_PIECE, piece.length);
        const code = piece.charCodeAt(cut);
        if (cut < piece.length && code >= 0xdc00 && code <= 0xdfff) cut -= 1;
        total += count(piece.slice(at, cut));
        at = cut;
      }
    } else total += count(piece);
    start = end;
  }
  return total;
}

const pieces = (count: (text: string) => number) => (text: string) => countInPieces(count, text);

const O200K: TokenCounter = { name: 'gpt-tokenizer o200k_base', exact: true, count: pieces(countO200k) };
const CL100K: TokenCounter = { name: 'gpt-tokenizer cl100k_base', exact: true, count: pieces(countCl100k) };
/** Other families (Claude, local models, the simulator): o200k_base's count stands in for theirs. */
const ESTIMATED: TokenCounter = {
  name: 'estimate (o200k_base count; this family has no public tokenizer)',
  exact: false,
  count: O200K.count,
};

/** The tokenizer of a model's family, by the provider's model name (`gpt-4.1-mini`, `o3`, …). */
export function tokenCounterFor(modelName: string): TokenCounter {
  const name = modelName.toLowerCase();
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-4o|o[1-9])/.test(name)) return O200K;
  if (/^(gpt-4|gpt-3\.5)/.test(name)) return CL100K;
  return ESTIMATED;
}
