/**
 * The council's rankings: parsing each reviewer's `FINAL RANKING:` list of
 * anonymous labels (`Response A`, `Response B`, …) and aggregating the parsed
 * lists into an average rank per model.
 *
 * Reviewers are language models, so the parser is forgiving about format
 * (bold, headings, `1)` or `-` lists, lowercase, text after each label) but
 * never guesses a ranking from prose: without a `FINAL RANKING` marker there
 * is no ranking.
 */

export type RankingParseResult =
  | { order: string[]; problems: string[] }
  | { order: null; problems: string[] };

export interface AggregatedRank {
  model: string;
  /** Mean of the 1-based positions the parsed reviews gave the model (rounded to 3 decimals). */
  averageRank: number;
  /** How many parsed reviews ranked the model. */
  votes: number;
}

/** The anonymous label of the i-th (0-based) output: `Response A` … `Response Z`, `Response AA`, … */
export function responseLabel(index: number): string {
  let n = index;
  let letters = '';
  do {
    letters = String.fromCharCode(65 + (n % 26)) + letters;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `Response ${letters}`;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `FINAL RANKING` (any case, `Rankings` too). It counts as a marker when it
 * opens a line (after markdown such as `##`, `**`, `>`) or when a colon follows
 * it (`My FINAL RANKING (best first):`).
 */
const MARKER_RE = /final[ \t]*rankings?/gi;
const MARKER_TAIL_RE = /^[*_ \t]*(?:\([^)\n]*\))?[*_ \t]*(:?)[*_ \t]*/;
const LINE_START_DECORATION_RE = /^[ \t>#*_-]*$/;

interface Marker {
  /** Offset just after the marker (and its colon and closing markup). */
  end: number;
}

function findMarkers(text: string): Marker[] {
  const markers: Marker[] = [];
  for (const match of text.matchAll(MARKER_RE)) {
    const start = match.index;
    const afterWord = start + match[0].length;
    const tail = MARKER_TAIL_RE.exec(text.slice(afterWord))!;
    const hasColon = tail[1] === ':';
    const lineStart = text.lastIndexOf('\n', start - 1) + 1;
    const atLineStart = LINE_START_DECORATION_RE.test(text.slice(lineStart, start));
    // "finalranking" glued to a preceding word is not a marker.
    const prev = start > 0 ? text[start - 1]! : '';
    if (/[A-Za-z0-9]/.test(prev)) continue;
    if (hasColon || atLineStart) markers.push({ end: afterWord + tail[0].length });
  }
  return markers;
}

interface LabelMatcher {
  label: string;
  re: RegExp;
  /** The last word of the label (`A` for `Response A`), accepted alone as a list item. */
  short: string | undefined;
}

function labelMatchers(labels: readonly string[]): LabelMatcher[] {
  return labels.map((label) => {
    const words = label.trim().split(/\s+/);
    const body = words.map(escapeRegExp).join('[ \\t_-]*');
    return {
      label,
      re: new RegExp(`(?<![A-Za-z0-9])${body}(?![A-Za-z0-9])`, 'gi'),
      short: words.length > 1 ? words[words.length - 1]!.toLowerCase() : undefined,
    };
  });
}

interface Mention {
  label: string;
  index: number;
  end: number;
}

/** Every label mention in `text`, in order of position (the longest wins at one position). */
function mentions(text: string, matchers: readonly LabelMatcher[]): Mention[] {
  const found: Mention[] = [];
  for (const m of matchers) {
    for (const match of text.matchAll(m.re))
      found.push({ label: m.label, index: match.index, end: match.index + match[0].length });
  }
  found.sort((a, b) => a.index - b.index || b.end - a.end);
  const result: Mention[] = [];
  for (const f of found) {
    const last = result[result.length - 1];
    if (last && f.index < last.end) continue;
    result.push(f);
  }
  return result;
}

const MARKUP_RE = /[*_`]/g;
const NUMBERED_ITEM_RE =
  /^(?:#{1,6}[ \t]+)?(?:#?\d{1,3}(?:st|nd|rd|th)?[ \t]*[.):]|\(\d{1,3}\)|#\d{1,3})[ \t]*(.*)$/i;
const BULLET_ITEM_RE = /^[-+•*][ \t]+(.*)$/;
/** What may follow a label for an unmarked line to count as a list item rather than prose. */
const AFTER_BARE_LABEL_RE = /^[\s)\]"'.,;:]*(?:$|[-–—:(|])/;

function describeUnknown(item: string): string {
  const generic = /response[ \t]+([A-Za-z0-9]+)/i.exec(item);
  if (generic) return `unknown label "${generic[0]}" ignored`;
  const shown = item.length > 60 ? `${item.slice(0, 57)}...` : item;
  return `entry "${shown}" names no known label; ignored`;
}

/** Reads the ranking that follows a marker. */
function readSection(
  section: string,
  matchers: readonly LabelMatcher[],
): { order: string[]; problems: string[] } {
  const order: string[] = [];
  const problems: string[] = [];
  const add = (label: string) => {
    if (order.includes(label)) problems.push(`"${label}" is ranked more than once; kept its first position`);
    else order.push(label);
  };

  const itemLabel = (item: string): string | undefined => {
    const first = mentions(item, matchers)[0];
    if (first) return first.label;
    // A bare letter: `1. C` or `1. **B** - clear and correct`.
    const bare = /^[\s("'[]*([A-Za-z0-9]+)([\s\S]*)$/.exec(item);
    if (bare && AFTER_BARE_LABEL_RE.test(bare[2]!)) {
      const token = bare[1]!.toLowerCase();
      return matchers.find((m) => m.short === token)?.label;
    }
    return undefined;
  };

  const lines = section.split(/\r?\n/);
  const inline = (lines[0] ?? '').replace(MARKUP_RE, '');
  const inlineMentions = mentions(inline, matchers);
  if (inlineMentions.length >= 2) {
    // `FINAL RANKING: Response C > Response A > Response B`
    for (const m of inlineMentions) add(m.label);
    return { order, problems };
  }

  let style: 'marked' | 'bare' | undefined;
  let baseIndent = 0;
  let preamble = 0;
  const startIndex = inline.trim().length > 0 ? 0 : 1;
  for (let i = startIndex; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const indent = raw.match(/^[ \t]*/)![0].replace(/\t/g, '    ').length;
    const content = raw.trim().replace(MARKUP_RE, '').trim();
    if (content === '') continue;

    const marked = NUMBERED_ITEM_RE.exec(content) ?? BULLET_ITEM_RE.exec(content);
    const bareMention = mentions(content, matchers)[0];
    const isBare =
      !marked &&
      bareMention !== undefined &&
      bareMention.index === 0 &&
      AFTER_BARE_LABEL_RE.test(content.slice(bareMention.end));

    if (style !== undefined && indent > baseIndent) continue; // nested detail under an item
    if (marked && style !== 'bare') {
      if (style === undefined) {
        style = 'marked';
        baseIndent = indent;
      }
      const item = marked[1]!.trim();
      const label = itemLabel(item);
      if (label) add(label);
      else problems.push(describeUnknown(item));
      continue;
    }
    if (isBare && style !== 'marked') {
      if (style === undefined) {
        style = 'bare';
        baseIndent = indent;
      }
      add(bareMention.label);
      continue;
    }
    if (style !== undefined) break; // prose after the list ends it
    // Prose between the marker and the list ("From best to worst:").
    if (++preamble > 3) break;
  }
  return { order, problems };
}

/**
 * Parses a reviewer's output: the numbered list after the last `FINAL RANKING`
 * marker. `labels` are the labels the reviewer was shown (`Response A`, …);
 * the order uses them exactly as given. Unknown labels and repeats are left
 * out, and labels missing from the list are tolerated; each is noted in
 * `problems`. `order` is `null` when there is no marker or no known label
 * after any marker.
 */
export function parseRanking(text: string, labels: readonly string[]): RankingParseResult {
  if (labels.length === 0) return { order: null, problems: ['there are no labels to rank'] };
  const markers = findMarkers(text);
  if (markers.length === 0) return { order: null, problems: ['no FINAL RANKING section'] };

  const matchers = labelMatchers(labels);
  const problems: string[] = [];
  for (let m = markers.length - 1; m >= 0; m--) {
    const section = readSection(text.slice(markers[m]!.end), matchers);
    if (section.order.length === 0) continue;
    if (markers.length > 1)
      problems.push(
        m === markers.length - 1
          ? `${markers.length} FINAL RANKING sections; read the last one`
          : `${markers.length} FINAL RANKING sections and the last lists no known label; read section ${m + 1}`,
      );
    problems.push(...section.problems);
    const missing = labels.filter((l) => !section.order.includes(l));
    if (missing.length > 0) problems.push(`missing from the ranking: ${missing.join(', ')}`);
    return { order: section.order, problems };
  }
  return {
    order: null,
    problems: [
      markers.length > 1
        ? 'no FINAL RANKING section lists a known label'
        : 'the FINAL RANKING section lists no known label',
    ],
  };
}

/**
 * Averages the parsed reviews into one ranking, best first: lowest average
 * rank, then more votes, then model id. A label the map does not know is
 * skipped (and does not take a position); a model that no review ranked is
 * left out.
 */
export function aggregateRankings(
  reviews: ReadonlyArray<{ order: readonly string[] }>,
  labelToModel: ReadonlyMap<string, string>,
): AggregatedRank[] {
  const totals = new Map<string, { sum: number; votes: number }>();
  for (const review of reviews) {
    const seen = new Set<string>();
    let position = 0;
    for (const label of review.order) {
      const model = labelToModel.get(label);
      if (model === undefined || seen.has(model)) continue;
      seen.add(model);
      position += 1;
      const total = totals.get(model) ?? { sum: 0, votes: 0 };
      total.sum += position;
      total.votes += 1;
      totals.set(model, total);
    }
  }
  return [...totals.entries()]
    .map(([model, t]) => ({ model, exact: t.sum / t.votes, votes: t.votes }))
    .sort(
      (a, b) =>
        a.exact - b.exact || b.votes - a.votes || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0),
    )
    .map(({ model, exact, votes }) => ({ model, averageRank: Math.round(exact * 1000) / 1000, votes }));
}

export interface CouncilRankingSummary {
  /** Aggregated ranking, best first (`result.ranking`). */
  ranking: AggregatedRank[];
  /** Reviews whose ranking could not be parsed (`result.unparsedRankings`). */
  unparsedRankings: number;
  /** Per review: the parsed order (or null) and what the parser noticed. */
  reviews: Array<{ model: string; order: string[] | null; problems: string[] }>;
}

/**
 * Parses every review of a ranking stage and aggregates them. `labelToModel`
 * must be the mapping used to label the outputs the reviewers were shown; its
 * keys (in insertion order) are the labels.
 */
export function summarizeRankings(
  reviews: ReadonlyArray<{ model: string; text: string }>,
  labelToModel: ReadonlyMap<string, string>,
): CouncilRankingSummary {
  const labels = [...labelToModel.keys()];
  const parsed = reviews.map((r) => ({ model: r.model, ...parseRanking(r.text, labels) }));
  const orders = parsed.flatMap((p) => (p.order === null ? [] : [{ order: p.order }]));
  return {
    ranking: aggregateRankings(orders, labelToModel),
    unparsedRankings: parsed.length - orders.length,
    reviews: parsed,
  };
}
