import { Nic } from "../model";

/**
 * An XSLT for libvirt_domain's `xml` block that names each NIC's TAP device as the lab does
 * (`<prefix>t-<guest>-<n>`), matched by MAC. libvirt would pick `vnetN`, which no rule could name
 * in advance; with the lab's names, security group rules (physdev) apply to VMs as to emulated guests.
 */
export function tapNamesXslt(nics: readonly Nic[]): string {
  const templates = nics.map((n) => [
    `  <xsl:template match="/domain/devices/interface[mac/@address='${n.mac}']">`,
    "    <xsl:copy>",
    "      <xsl:apply-templates select=\"@*|node()[not(self::target)]\"/>",
    `      <target dev="${n.hostDev}"/>`,
    "    </xsl:copy>",
    "  </xsl:template>",
  ].join("\n"));
  return [
    '<?xml version="1.0"?>',
    '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">',
    '  <xsl:output omit-xml-declaration="yes" indent="yes"/>',
    '  <xsl:template match="@*|node()">',
    '    <xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy>',
    "  </xsl:template>",
    ...templates,
    "</xsl:stylesheet>",
    "",
  ].join("\n");
}
