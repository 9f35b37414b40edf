// Draws the workflow picture from the Mermaid source in the page (Mermaid is loaded just before
// this file, from this site). The table under the picture says the same in words.
window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral" });
window.mermaid.run({ querySelector: ".app-mermaid" });
