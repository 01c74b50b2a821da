/**
 * Escapes a string for Terraform, where every string is a template: `${` and `%{` would start an
 * interpolation or directive, so they become `$${` and `%%{`.
 */
export function terraformLiteral(text: string): string {
  // Replacer functions, because in a replacement string "$$" means a single "$".
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/** An HCL quoted string for text that is already a Terraform literal (see `terraformLiteral`). */
function hclQuoted(literal: string): string {
  const escaped = literal.replace(/[\\"\u0000-\u001f]/g, (c) => {
    switch (c) {
      case "\\": return "\\\\";
      case "\"": return "\\\"";
      case "\n": return "\\n";
      case "\r": return "\\r";
      case "\t": return "\\t";
      default: return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    }
  });
  return `"${escaped}"`;
}

/**
 * A Terraform value marked sensitive, so plans print `(sensitive value)` instead of it: a string,
 * list or map of Terraform literals, written as the HCL expression `${sensitive(...)}`.
 */
export function sensitiveValue(value: string | readonly string[] | Readonly<Record<string, string>>): string {
  const hcl = typeof value === "string" ? hclQuoted(value)
    : Array.isArray(value) ? `[${value.map(hclQuoted).join(", ")}]`
    : `{${Object.entries(value).map(([k, v]) => `${hclQuoted(k)} = ${hclQuoted(v)}`).join(", ")}}`;
  return `\${sensitive(${hcl})}`;
}
