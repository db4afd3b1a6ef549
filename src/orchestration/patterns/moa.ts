/**
 * `moa` — after the Mixture-of-Agents paper: each layer's models see every
 * output of the previous layer and improve on it; the aggregator evaluates the
 * responses critically (they may be biased or wrong) and synthesizes one
 * high-quality answer.
 */

import type { PatternDefinition } from './types.js';

export const moa: PatternDefinition = {
  name: 'moa',
  title: 'Mixture of Agents',
  description:
    'Layered refinement: every model answers; every model then reads all the first-layer answers and writes an improved one; an aggregator critically evaluates the improved answers and synthesizes a single high-quality response.',
  stages: [
    {
      name: 'layer1',
      mode: 'each',
      template: '{{prompt}}',
    },
    {
      name: 'layer2',
      mode: 'each',
      template: `Below is a question and several responses to it from different models (yours may be among them). Use them as reference material to write a better response of your own.

## Question
{{prompt}}

## Responses
{{responses}}

## Your task
Write your own best response to the question. Keep what is correct and valuable in the responses, fix what is wrong, fill in what is missing, and organize the result clearly. Do not assume any response is correct; check claims against your own knowledge. Reply with the response itself: do not describe or compare the responses, and do not mention that you were given them.`,
    },
    {
      name: 'aggregate',
      mode: 'one',
      template: `You have been given several responses from different models to the question below. Synthesize them into a single, high-quality response.

Evaluate the responses critically: some of the information in them may be biased, outdated or simply wrong, and agreement between them is not proof. Do not copy any one response; combine what is accurate and useful from each, correct errors, resolve contradictions with your own judgement, and add what they all missed.

## Question
{{prompt}}

## Responses
{{responses}}

## Your task
Write the final response. It should be accurate, complete, well structured and directly useful to the person who asked, and it must stand on its own: do not mention the responses, the models or this process.`,
    },
  ],
};
