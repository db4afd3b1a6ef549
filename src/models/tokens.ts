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

const O200K: TokenCounter = { name: 'gpt-tokenizer o200k_base', exact: true, count: countO200k };
const CL100K: TokenCounter = { name: 'gpt-tokenizer cl100k_base', exact: true, count: countCl100k };
/** Other families (Claude, local models, the simulator): o200k_base's count stands in for theirs. */
const ESTIMATED: TokenCounter = {
  name: 'estimate (o200k_base count; this family has no public tokenizer)',
  exact: false,
  count: countO200k,
};

/** The tokenizer of a model's family, by the provider's model name (`gpt-4.1-mini`, `o3`, …). */
export function tokenCounterFor(modelName: string): TokenCounter {
  const name = modelName.toLowerCase();
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-4o|o[1-9])/.test(name)) return O200K;
  if (/^(gpt-4|gpt-3\.5)/.test(name)) return CL100K;
  return ESTIMATED;
}
