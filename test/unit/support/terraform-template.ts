/**
 * How Terraform reads a literal string in JSON configuration, which is a template. A run of n >= 2
 * `$` (or `%`) before `{` reads as n-1 of them and the `{`; a single one starts an interpolation
 * (or directive). Checked against terraform 1.11: "$${x}" -> "${x}", "$$${x}" -> "$${x}",
 * "%%%{x}" -> "%%{x}", "a$$%%{b" -> "a$$%{b", "$%{" is an error.
 * Returns undefined when the text would start an interpolation or a directive.
 */
export function readTerraformLiteral(text: string): string | undefined {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== "$" && c !== "%") {
      out += c;
      i++;
      continue;
    }
    let j = i;
    while (text[j] === c) j++;
    const run = j - i;
    if (text[j] === "{") {
      if (run === 1) return undefined;
      out += c.repeat(run - 1) + "{";
      i = j + 1;
    } else {
      out += c.repeat(run);
      i = j;
    }
  }
  return out;
}
