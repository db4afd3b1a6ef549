/**
 * Template rendering in one pass: the template is scanned once and every
 * `{{variable}}` is replaced by its value. Values are never scanned again, so
 * a prompt or a model answer that contains `{{…}}` stays as it is.
 */

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)?)\s*\}\}/g;

/** Variables every template may use; `stages.<name>` is checked against the stage list. */
export const TEMPLATE_VARIABLES = ['prompt', 'own_response', 'other_responses', 'responses'] as const;

export type TemplateValues = Record<string, string>;

export function renderTemplate(template: string, values: TemplateValues): string {
  return template.replace(PLACEHOLDER, (match, name: string) => {
    const value = values[name];
    return value === undefined ? match : value;
  });
}

/** Every variable a template names, in order of appearance, without repeats. */
export function templateVariables(template: string): string[] {
  const names = new Set<string>();
  for (const match of template.matchAll(PLACEHOLDER)) names.add(match[1]!);
  return [...names];
}
