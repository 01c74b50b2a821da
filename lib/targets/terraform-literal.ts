/**
 * Escapes a string for Terraform, where every string is a template: `${` and `%{` would start an
 * interpolation or directive, so they become `$${` and `%%{`.
 */
export function terraformLiteral(text: string): string {
  // Replacer functions, because in a replacement string "$$" means a single "$".
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}
