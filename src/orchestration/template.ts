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

/** UTF-8 bytes `renderTemplate` would answer, counted without building the text (a template may repeat a long value). */
export function renderedBytes(template: string, values: TemplateValues): number {
  const sizes = new Map<string, number>();
  let bytes = 0;
  let from = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    bytes += Buffer.byteLength(template.slice(from, match.index));
    from = match.index + match[0].length;
    const value = values[name];
    if (value === undefined) {
      bytes += Buffer.byteLength(match[0]);
      continue;
    }
    let size = sizes.get(name);
    if (size === undefined) {
      size = Buffer.byteLength(value);
      sizes.set(name, size);
    }
    bytes += size;
  }
  return bytes + Buffer.byteLength(template.slice(from));
}
