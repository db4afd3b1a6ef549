/**
 * The ten four-stage patterns: initial (each) → meta (each) → hyper (each) →
 * ultra (one). In every one of them `meta` shows a model its own initial
 * answer and the others', `hyper` its own meta answer and the others', and
 * `ultra` gives the synthesis model every hyper answer. What differs is the
 * task of each stage (see shared/design/PATTERNS.md).
 */

import type { PatternDefinition } from './types.js';

interface FourStageSpec {
  name: string;
  title: string;
  description: string;
  /** Instructions for the initial answer; without them the initial stage just answers the prompt. */
  initial?: string;
  /** What the second round calls its output ("revised answer", "critique", …). */
  metaOutput: string;
  meta: string;
  /** What the third round calls its output. */
  hyperOutput: string;
  hyper: string;
  ultra: string;
}

const FORMAT_RULES =
  'Write in Markdown with the headings asked for. Be specific and concrete; skip filler, restating the question and generic caveats.';

function initialTemplate(instructions: string | undefined): string {
  if (instructions === undefined) return '{{prompt}}';
  return `## Question
{{prompt}}

## How to answer
${instructions}

${FORMAT_RULES}`;
}

function metaTemplate(spec: FourStageSpec): string {
  return `You answered the question below. Other models answered the same question independently; their answers follow yours, each headed by the model that wrote it.

## Question
{{prompt}}

## Your answer
{{own_response}}

## The other models' answers
{{other_responses}}

## Your task: ${spec.metaOutput}
${spec.meta}

${FORMAT_RULES}`;
}

const plural = (noun: string) => (noun.endsWith('is') ? `${noun.slice(0, -2)}es` : `${noun}s`);

function hyperTemplate(spec: FourStageSpec): string {
  const output = spec.metaOutput.toLowerCase();
  return `This is the third round of a multi-model analysis of the question below. In the second round, each model read everyone's first answers and wrote a second-round ${output}. Yours comes first, then the other models', each headed by the model that wrote it.

## Question
{{prompt}}

## Your ${output}
{{own_response}}

## The other models' ${plural(output)}
{{other_responses}}

## Your task: ${spec.hyperOutput}
${spec.hyper}

${FORMAT_RULES}`;
}

function ultraTemplate(spec: FourStageSpec): string {
  return `You are writing the final answer to the question below. Several models answered it, read and responded to each other's work, and then wrote a third-round ${spec.hyperOutput.toLowerCase()}. Their third-round outputs follow, each headed by the model that wrote it.

## Question
{{prompt}}

## Third-round outputs
{{responses}}

## Your task
${spec.ultra}

The result must stand on its own: a reader who has not seen the other outputs should get a complete, accurate answer to the question. Where the models disagree, say so and say which position the evidence favours rather than blending them. ${FORMAT_RULES}`;
}

function fourStage(spec: FourStageSpec): PatternDefinition {
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    stages: [
      { name: 'initial', mode: 'each', template: initialTemplate(spec.initial) },
      { name: 'meta', mode: 'each', template: metaTemplate(spec) },
      { name: 'hyper', mode: 'each', template: hyperTemplate(spec) },
      { name: 'ultra', mode: 'one', template: ultraTemplate(spec) },
    ],
  };
}

export const gut: PatternDefinition = fourStage({
  name: 'gut',
  title: 'Gut Analysis',
  description:
    'Intuition, without assuming others are factually right: each model revises its own answer in light of the others without taking them on trust, then sharpens its arguments; the synthesis keeps the distinct approaches in balance.',
  metaOutput: 'Revised answer',
  meta: `Revise your answer in light of the others. Do not assume the other answers are correct: they may contain errors, unsupported claims or weak reasoning. Trust your own judgement and intuition, adopt a point from another answer only when it genuinely convinces you, and keep your position where you still think it is right.

Use these headings:
- **Revised answer** — your full, improved answer to the question.
- **What changed** — the points you took from other answers, and why they convinced you.
- **What you kept** — where you deliberately disagree with the other answers, and why.`,
  hyperOutput: 'Strengthened answer',
  hyper: `Refine your revised answer and strengthen its arguments. Test each key claim against the strongest objection in the other revised answers; tighten the reasoning, add the evidence or examples a sceptical reader would ask for, and drop what does not hold up.

Use these headings:
- **Strengthened answer** — your answer in its strongest form.
- **Key arguments** — the main arguments, each with its support.
- **Remaining doubts** — what you are still unsure of, and what would settle it.`,
  ultra: `Write a balanced final synthesis. The models reached their answers by partly different routes: keep the distinct approaches visible instead of flattening them into one voice, weigh them fairly, and do not treat any claim as true merely because a model asserted it.

Use these headings:
- **Answer** — the best answer to the question.
- **Distinct approaches** — each notable approach, its reasoning and where it is strongest.
- **Where they agree and differ** — the common ground and the real disagreements.
- **Conclusion** — your balanced judgement and its caveats.`,
});

export const confidence: PatternDefinition = fourStage({
  name: 'confidence',
  title: 'Confidence Analysis',
  description:
    'Confidence scoring and agreement tracking: the models map themes, agreement and the strength of arguments, then consensus and unique insights; the synthesis scores every point by how many models hold it.',
  metaOutput: 'Agreement analysis',
  meta: `Analyse all the answers, yours included, as a set.

Use these headings:
- **Key themes** — the main themes across the answers.
- **Agreement** — points that several answers share; name the models that hold each.
- **Disagreement** — points where answers conflict; state each side and who holds it.
- **Emerging consensus** — what the answers, taken together, seem to settle on.
- **Strength of arguments** — for the important points, how well supported each is (evidence, reasoning, specificity), not merely how often it is repeated.`,
  hyperOutput: 'Consensus analysis',
  hyper: `Compare the agreement analyses and consolidate them.

Use these headings:
- **Consensus** — the points the models (and their analyses) agree on, with the models that hold each.
- **Unique insights** — valuable points only one model raised; say who raised it and why it matters.
- **Open disagreements** — what remains contested, and why.
- **Ideas for the synthesis** — how the final answer should combine these, and which points deserve the most and least confidence.`,
  ultra: `Write a synthesis in which every point carries a confidence level based on how many models hold it and how firmly:
- **Very high** — all models hold it, and argue it strongly.
- **High** — all models hold it.
- **Medium** — some of the models hold it.
- **Low** — only one model holds it.

Use these headings:
- **Answer** — a concise answer to the question, built from the higher-confidence points.
- **Points by confidence** — every substantive point, grouped by confidence level; after each point, name the models that hold it.
- **Confidence distribution** — how many points fall in each level, and what that says about how settled the question is.
- **Disputed points** — points where models actively disagree, with each side and its holders.`,
});

export const critique: PatternDefinition = fourStage({
  name: 'critique',
  title: 'Critique Analysis',
  description:
    "Structured critique and revision: each model critiques the others' answers, then revises its own answer using the critiques it received; the synthesis combines the best elements and addresses the key critiques.",
  metaOutput: 'Critique',
  meta: `Critique each of the other models' answers. Be fair and concrete: name what is actually right and wrong, quote or point to the specific passage, and suggest how to fix each weakness.

For each answer, under a heading with the model's name:
- **Strengths** — what it does well.
- **Weaknesses** — errors, gaps, unsupported claims, unclear reasoning.
- **Suggested improvements** — specific changes that would make it better.

Finish with **Overall** — the most important lessons across all the answers.`,
  hyperOutput: 'Revised answer',
  hyper: `The other models' critiques above include critiques of your own first answer. Revise your answer using them: fix the valid criticisms, and push back on criticisms you think are wrong, saying why.

Use these headings:
- **Revised answer** — your complete, improved answer to the question.
- **Critiques addressed** — each valid critique and how you addressed it.
- **Critiques rejected** — each critique you disagree with, and why.`,
  ultra: `Combine the best elements of the revised answers into one answer, and make sure it addresses the key critiques raised during the process.

Use these headings:
- **Answer** — the combined best answer.
- **Best elements used** — what you took from which model, and why.
- **Key critiques addressed** — the most important criticisms and how the answer resolves them.
- **Remaining limitations** — what the answer still cannot settle.`,
});

export const fact_check: PatternDefinition = fourStage({
  name: 'fact_check',
  title: 'Fact Check Analysis',
  description:
    "Rigorous fact checking: each model checks the others' claims, errors and evidence, then revises its own answer using the fact checks; the synthesis is an accurate answer with confidence levels.",
  metaOutput: 'Fact check',
  meta: `Fact-check the other models' answers. Go through their factual claims (figures, dates, names, causal claims, quotations, technical statements) and judge each one on what you actually know; do not mark a claim as verified merely because several answers repeat it.

Use these headings:
- **Claims checked** — for each notable claim: the claim, the model that made it, your verdict (correct / incorrect / partly correct / unverifiable) and the reason or evidence.
- **Errors found** — the mistakes that matter, with the correction.
- **Weak evidence** — claims stated with more certainty than their support allows.
- **Your own answer** — any claim in your own answer that the others' answers made you doubt.`,
  hyperOutput: 'Fact-checked answer',
  hyper: `Revise your own answer using the fact checks above, including the ones about your answer. Correct what was shown to be wrong, qualify what is uncertain, and keep what survived scrutiny.

Use these headings:
- **Revised answer** — your corrected, complete answer.
- **Corrections made** — what you changed, and on what basis.
- **Claims you stand by** — challenged claims you kept, with your evidence.`,
  ultra: `Write an accurate synthesis. Include only claims that survived the fact checks, and mark how confident one can be in each.

Use these headings:
- **Answer** — the accurate answer to the question.
- **Key facts and confidence** — the important claims, each marked high, medium or low confidence, with the reason (agreement between models, strength of evidence, corrections made).
- **Corrected errors** — errors that appeared in the earlier answers and were corrected, so readers are not misled by them.
- **Uncertain or unverifiable** — what cannot be settled from the available information.`,
});

export const perspective: PatternDefinition = fourStage({
  name: 'perspective',
  title: 'Perspective Analysis',
  description:
    'Integrating analytical perspectives: the models contrast technical and strategic, short- and long-term, theoretical and practical, local and global, qualitative and quantitative views, then integrate them and find gaps; the synthesis gives balanced recommendations.',
  metaOutput: 'Perspective analysis',
  meta: `Analyse all the answers, yours included, through contrasting perspectives. For each pair, say which answers take which view, what each view brings out, and what it misses.

Use these headings:
- **Technical vs strategic**
- **Short term vs long term**
- **Theory vs practice**
- **Local vs global**
- **Qualitative vs quantitative**
- **Most neglected perspective** — the view the answers underweight most, and why it matters here.`,
  hyperOutput: 'Integrated perspective',
  hyper: `Integrate the viewpoints from the perspective analyses into one coherent picture.

Use these headings:
- **Integrated view** — how the perspectives fit together for this question, including where one should take priority over another.
- **Tensions** — where perspectives genuinely conflict, and how to handle each conflict.
- **Gaps** — perspectives, stakeholders or considerations that no one has addressed yet.`,
  ultra: `Write balanced recommendations that draw on all the perspectives.

Use these headings:
- **Answer** — the direct answer to the question.
- **Recommendations** — concrete, prioritized recommendations; for each, the perspectives that support it and the trade-offs it makes.
- **Balancing the perspectives** — how the recommendations weigh technical vs strategic, short vs long term, theory vs practice, local vs global, and qualitative vs quantitative considerations.
- **Gaps and caveats** — what remains unexamined.`,
});

export const scenario: PatternDefinition = fourStage({
  name: 'scenario',
  title: 'Scenario Analysis',
  description:
    'Responses under different scenarios: the models test the answers against best, worst, most likely, edge and alternative cases, then assess robustness and dependencies; the synthesis gives scenario-based recommendations.',
  metaOutput: 'Scenario analysis',
  meta: `Test the answers, yours included, against a range of scenarios. For each scenario, describe it concretely in the context of the question and say how well the answers' recommendations or conclusions hold up in it.

Use these headings:
- **Best case**
- **Worst case**
- **Most likely case**
- **Edge cases** — unusual but plausible situations that would break the answers.
- **Alternative scenarios** — materially different ways things could unfold.`,
  hyperOutput: 'Robustness analysis',
  hyper: `Assess the robustness of the answers across the scenarios in the analyses above.

Use these headings:
- **Robust conclusions** — what holds in every scenario.
- **Fragile conclusions** — what holds only in some scenarios, and which.
- **Key dependencies** — the assumptions, conditions or uncertainties the outcome depends on most, and how to tell early which scenario is unfolding.
- **Hedges** — actions that reduce the damage if the worse scenarios occur.`,
  ultra: `Write scenario-based recommendations.

Use these headings:
- **Answer** — the direct answer, as it stands in the most likely scenario.
- **Recommendations by scenario** — what to do in the best, worst, most likely and key alternative scenarios.
- **Robust actions** — steps worth taking whatever happens.
- **Signposts** — the indicators that show which scenario is unfolding, and the decision each should trigger.`,
});

export const stakeholder: PatternDefinition = fourStage({
  name: 'stakeholder',
  title: 'Stakeholder Vision',
  description:
    'Diverse interests and needs: each model maps the stakeholders, then the models compare coalitions and power dynamics and build a power/interest matrix; the synthesis gives a stakeholder map, win-win strategies, a communication plan and metrics.',
  initial: `Answer through a stakeholder analysis. Identify everyone who affects or is affected by the issue — including the less obvious and less powerful parties.

Use these headings:
- **Stakeholders** — for each stakeholder: their goals, their constraints, the risks they face, and how they are likely to react.
- **Answer** — your answer to the question in light of these interests.`,
  metaOutput: 'Stakeholder comparison',
  meta: `Compare your stakeholder analysis with the others'.

Use these headings:
- **Combined stakeholder list** — the union of the lists; note who appears in only some analyses and whether they belong.
- **Differences in assessment** — where the analyses read a stakeholder's goals, constraints, risks or reactions differently, and which reading is better supported.
- **Coalitions** — which stakeholders are likely to align or oppose each other, and on what.
- **Power dynamics** — who holds formal and informal power, and how it is likely to be used.`,
  hyperOutput: 'Power and dependency analysis',
  hyper: `Deepen the stakeholder analysis.

Use these headings:
- **Power/interest matrix** — place every stakeholder in one of four quadrants (high power/high interest: manage closely; high power/low interest: keep satisfied; low power/high interest: keep informed; low power/low interest: monitor), with a one-line reason each.
- **Hidden dependencies** — non-obvious ways stakeholders depend on or influence each other, and how a move by one would ripple to others.
- **Critical stakeholders** — whose support or opposition will decide the outcome.`,
  ultra: `Write the final stakeholder strategy.

Use these headings:
- **Answer** — the direct answer to the question.
- **Stakeholder map** — every stakeholder with interest, power, position and key concerns (a table works well).
- **Win-win strategies** — options that serve several stakeholders' interests at once, and the trade-offs where none exists.
- **Communication plan** — for each key stakeholder or group: the message, the channel, the messenger and the timing.
- **Success metrics** — how to measure whether the strategy is working, per stakeholder where it matters.`,
});

export const systems: PatternDefinition = fourStage({
  name: 'systems',
  title: 'Systems Mapper',
  description:
    'Feedback loops and leverage points: each model maps the system behind the question, then the models combine their maps and trace causal loops, thresholds and tipping points; the synthesis gives a system model, interventions, monitoring and a timeline.',
  initial: `Answer by modelling the issue as a system.

Use these headings:
- **Components** — the key actors, resources, stocks and flows.
- **Feedback loops** — reinforcing and balancing loops, each traced step by step (A increases B, which …).
- **Leverage points** — where a small intervention would change the system's behaviour most.
- **Emergent effects** — behaviour that arises from the interactions rather than from any single part, including delays and unintended consequences.
- **Answer** — your answer to the question in light of this model.`,
  metaOutput: 'Combined system map',
  meta: `Merge your system model with the others' into one combined system map.

Use these headings:
- **Combined components** — every component, noting which models included it.
- **Combined feedback loops** — every loop, deduplicated, with its polarity (reinforcing or balancing).
- **Differences** — where the models structured the system differently, and which structure fits better.
- **Leverage points** — the leverage points the combined map reveals.`,
  hyperOutput: 'Dynamics analysis',
  hyper: `Analyse the dynamics of the combined system maps.

Use these headings:
- **Causal loops** — the loops that dominate the system's behaviour, and how their dominance can shift over time.
- **Thresholds** — levels at which the system's behaviour changes qualitatively.
- **Tipping points** — points beyond which change becomes self-reinforcing or hard to reverse, and how close the system is to each.
- **Delays** — time lags that could make interventions overshoot or appear to fail.`,
  ultra: `Write the final systems analysis and plan.

Use these headings:
- **Answer** — the direct answer to the question.
- **System model** — the consolidated model: components, the loops that matter, thresholds and tipping points.
- **Interventions** — prioritized interventions at the strongest leverage points, each with its expected effect and possible side effects.
- **Monitoring** — the indicators to watch and the warning signs of approaching tipping points.
- **Timeline** — when to act and when effects should appear, allowing for delays.`,
});

export const time: PatternDefinition = fourStage({
  name: 'time',
  title: 'Time Horizon',
  description:
    'Short and long term: each model answers for the immediate, transitional and long-term horizons, then the models check consistency and trade-offs across time frames and build a timeline with decision points; the synthesis is a roadmap linking immediate actions to long-term goals.',
  initial: `Answer separately for three time horizons, considering for each what matters, what is likely to change, and what to do.

Use these headings:
- **Immediate (0–1 year)**
- **Transitional (1–5 years)**
- **Horizon (5–20+ years)**
- **Across horizons** — how the three connect, and where they pull in different directions.`,
  metaOutput: 'Time-horizon comparison',
  meta: `Compare the time-horizon analyses, yours included.

Use these headings:
- **Consistency across time frames** — whether each analysis's short-term actions actually lead toward its long-term view, and where they contradict it.
- **Differences between analyses** — where the models see a horizon differently, and which view is better supported.
- **Trade-offs** — where gains in one horizon cost something in another, and how large each trade-off is.`,
  hyperOutput: 'Timeline analysis',
  hyper: `Turn the comparisons into a timeline.

Use these headings:
- **Timeline** — the key events, milestones and shifts in order, with approximate timing.
- **Decision points** — the moments when a choice must be made, the options at each, and what information should inform it.
- **Opportunity costs** — what each major choice forgoes, especially options that close off over time.`,
  ultra: `Write a roadmap that links immediate actions to long-term goals.

Use these headings:
- **Answer** — the direct answer to the question.
- **Long-term goals** — what the roadmap aims at over 5–20+ years.
- **Roadmap** — phases for 0–1, 1–5 and 5–20+ years: the actions in each, and how each phase prepares the next.
- **Decision points** — when to revisit the plan, and what would change it.
- **Trade-offs accepted** — the short-term costs taken on for long-term gains, and vice versa.`,
});

export const innovation: PatternDefinition = fourStage({
  name: 'innovation',
  title: 'Innovation Bridge',
  description:
    'Cross-domain analogies: each model draws analogies from other domains, then the models find the patterns that recur across them and combine them into a unified framework; the synthesis is an innovation framework with practical applications.',
  initial: `Answer by drawing on other domains. Find at least three analogies from fields clearly different from the question's own (for example biology, engineering, economics, history, art, sport).

For each analogy, under its own heading:
- **Analogy** — the situation in the other domain.
- **Similarity** — what structurally corresponds to the question.
- **Insight** — what it suggests for the question.
- **Limits** — where the analogy breaks down.

Finish with **Answer** — your answer to the question, informed by the analogies.`,
  metaOutput: 'Pattern analysis',
  meta: `Look across all the analogies, yours and the others'.

Use these headings:
- **Recurring patterns** — principles or mechanisms that show up in several analogies, even from different domains; name the analogies behind each.
- **Strongest analogies** — the analogies that fit the question best, and why.
- **Weak analogies** — those that mislead, and why.`,
  hyperOutput: 'Unified framework',
  hyper: `Combine the analogies and recurring patterns into a unified framework.

Use these headings:
- **Combined analogies** — how insights from different analogies fit together or reinforce each other.
- **Unified framework** — a small set of principles that explains the question and suggests novel approaches; name the analogies behind each principle.
- **Novel ideas** — approaches the framework suggests that none of the original answers proposed.`,
  ultra: `Write the final innovation framework and its practical applications.

Use these headings:
- **Answer** — the direct answer to the question.
- **Innovation framework** — the principles, each with the analogies that inspired it and its limits.
- **Practical applications** — concrete ways to apply each principle to the question, prioritized by impact and feasibility.
- **First steps and risks** — how to start, how to test the ideas cheaply, and what could go wrong.`,
});

/** The ten four-stage patterns, in catalog order. */
export const FOUR_STAGE_PATTERNS: readonly PatternDefinition[] = [
  gut,
  confidence,
  critique,
  fact_check,
  perspective,
  scenario,
  stakeholder,
  systems,
  time,
  innovation,
];
