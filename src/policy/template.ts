/**
 * Fill `{{path.to.value}}` placeholders from `vars`. A missing value renders as an empty string:
 * a CR description with a blank is better than a failed deployment.
 */
export function render(template: string, vars: Record<string, unknown>): string {
  return template.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_, path: string) => {
    let value: unknown = vars;
    for (const part of path.split('.')) {
      value =
        value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    }
    return value === undefined || value === null ? '' : String(value);
  });
}
