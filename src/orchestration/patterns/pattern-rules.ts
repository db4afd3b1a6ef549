/**
 * The rules of a pattern definition that relate one field to another: stage
 * names unique, templates naming only variables that exist at that point,
 * `minResponses` only on `each` stages, one ranking stage, …
 */

import { isRecord } from '../../util/is-record.js';
import { TEMPLATE_VARIABLES, templateVariables } from '../template.js';

/** Variables that read the previous stage's outputs. */
const PREVIOUS_STAGE_VARIABLES: ReadonlySet<string> = new Set([
  'own_response',
  'other_responses',
  'responses',
]);
const KNOWN_VARIABLES: ReadonlySet<string> = new Set<string>(TEMPLATE_VARIABLES);
const VARIABLE_LIST = `${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ')}, {{stages.<name>}}`;

/** A zod issue, as far as the cross-field checks need it. */
export interface Issue {
  path: Array<string | number>;
  message: string;
}

/**
 * The rules that relate fields to each other. Works on unparsed input and skips
 * whatever has the wrong shape (the schema reports that), so that a pattern
 * with a type error elsewhere still gets these problems reported too.
 */
export function crossFieldIssues(input: unknown, maxStages: number): Issue[] {
  const issues: Issue[] = [];
  if (!isRecord(input) || !Array.isArray(input.stages)) return issues;
  // Stages past the limit are already a problem of their own: they are not checked one by one.
  const stages: unknown[] = input.stages.slice(0, maxStages);

  const names = stages.map((s) => (isRecord(s) && typeof s.name === 'string' ? s.name : undefined));
  const firstIndex = new Map<string, number>();
  names.forEach((name, i) => {
    if (name === undefined) return;
    const first = firstIndex.get(name);
    if (first === undefined) firstIndex.set(name, i);
    else
      issues.push({
        path: ['stages', i, 'name'],
        message: `stage name "${name}" is already used by stage ${first}; stage names must be unique`,
      });
  });

  let rankingStage: number | undefined;
  stages.forEach((stage, i) => {
    if (!isRecord(stage)) return;
    const mode = stage.mode;

    if (stage.minResponses !== undefined && mode === 'one')
      issues.push({
        path: ['stages', i, 'minResponses'],
        message:
          'minResponses applies only to "each" stages (a "one" stage runs a single model); remove it or use mode "each"',
      });

    if (stage.parse === 'ranking') {
      if (i === 0)
        issues.push({
          path: ['stages', i, 'parse'],
          message: "a ranking stage ranks the previous stage's outputs, so it cannot be the first stage",
        });
      if (stage.anonymize !== true)
        issues.push({
          path: ['stages', i, 'parse'],
          message:
            'parse "ranking" reads `Response A`, `Response B`, … labels, so the stage also needs `anonymize: true`',
        });
      if (rankingStage !== undefined)
        issues.push({
          path: ['stages', i, 'parse'],
          message: `only one stage may have parse "ranking" (stage ${rankingStage} already does)`,
        });
      else rankingStage = i;
    }

    if (typeof stage.template !== 'string') return;
    const templatePath = ['stages', i, 'template'];
    const earlier = names.slice(0, i).filter((n): n is string => n !== undefined);

    for (const match of stage.template.matchAll(/\{\{([^{}]*)\}\}/g)) {
      if (templateVariables(match[0]).length === 0)
        issues.push({
          path: templatePath,
          message: `"${match[0]}" is not a valid placeholder; write a variable name between the braces, one of ${VARIABLE_LIST}`,
        });
    }

    for (const variable of templateVariables(stage.template)) {
      if (variable.startsWith('stages.')) {
        const ref = variable.slice('stages.'.length);
        const refIndex = firstIndex.get(ref);
        const earlierList = earlier.length > 0 ? earlier.map((n) => `"${n}"`).join(', ') : 'none';
        if (refIndex === undefined)
          issues.push({
            path: templatePath,
            message: `{{${variable}}} names a stage that does not exist; {{stages.<name>}} must name an earlier stage (earlier stages: ${earlierList})`,
          });
        else if (refIndex >= i)
          issues.push({
            path: templatePath,
            message: `{{${variable}}} names ${refIndex === i ? 'this stage itself' : 'a later stage'}; its outputs do not exist yet when this stage runs. Name an earlier stage (earlier stages: ${earlierList})`,
          });
      } else if (!KNOWN_VARIABLES.has(variable)) {
        issues.push({
          path: templatePath,
          message:
            variable === 'stages'
              ? '{{stages}} needs a stage name: write {{stages.<name>}} with the name of an earlier stage'
              : `unknown variable {{${variable}}}; use one of ${VARIABLE_LIST}`,
        });
      } else if (i === 0 && PREVIOUS_STAGE_VARIABLES.has(variable)) {
        issues.push({
          path: templatePath,
          message: `{{${variable}}} reads the previous stage's outputs, and the first stage has no previous stage; use {{prompt}} here, or move this text to a later stage`,
        });
      }
    }
  });
  return issues;
}
