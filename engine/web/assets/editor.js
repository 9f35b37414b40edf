// The programme editor's code editor: each `textarea[data-yaml-editor]` becomes a CodeMirror
// editor with YAML highlighting and line numbers, checked as the person types by the same
// linter as `commission validate` (the page's `data-lint-url`). Without this script (or if it
// fails) the textarea stays a plain one and Save shows the same messages after saving.
//
// Bundled by esbuild into engine/web/static/build/editor.js (`make setup`; never committed).

import { basicSetup, EditorView } from "codemirror";
import { indentWithTab } from "@codemirror/commands";
import { yaml } from "@codemirror/lang-yaml";
import { forceLinting, linter, lintGutter } from "@codemirror/lint";
import { EditorSelection } from "@codemirror/state";
import { keymap } from "@codemirror/view";

const DELAY_MS = 400; // after the last key: quick enough to feel live, rare enough to be cheap
const UNCHECKED =
  "Your changes could not be checked just now. Save the file to check it, or keep typing to try again.";
const NOT_CHECKED = "Not checked";

// Editors on this page by file name, so a problem in another file's editor links to it.
const editors = new Map();

// CodeMirror writes its own styles in a <style> element, which the Content-Security-Policy
// refuses unless the page allows inline styles or gives this script a nonce for them. Read now:
// `currentScript` is only set while the script first runs.
const styleNonce = (document.currentScript && document.currentScript.nonce) || null;

function labelOf(textarea) {
  const label = textarea.id && document.querySelector(`label[for="${CSS.escape(textarea.id)}"]`);
  return (label && label.textContent.trim()) || textarea.getAttribute("aria-label") || "YAML file";
}

function csrfTokenOf(textarea) {
  const field = textarea.form && textarea.form.querySelector('input[name="csrf_token"]');
  return field ? field.value : "";
}

// The list of problems that goes with this editor: the one inside its form, else the page's.
function listOf(textarea) {
  return (
    (textarea.form && textarea.form.querySelector("[data-lint-list]")) ||
    document.querySelector("[data-lint-list]")
  );
}

// A problem's place in the text (line and column count from 1): the word it points at, or the
// rest of the line when it points at a space.
function rangeOf(doc, line, col) {
  const at = doc.line(Math.min(Math.max(Number(line) || 1, 1), doc.lines));
  const from = Math.min(at.from + Math.max(Number(col) || 1, 1) - 1, at.to);
  const word = /^[^\s:#,[\]{}]+/.exec(doc.sliceString(from, at.to));
  return { from, to: word ? from + word[0].length : at.to };
}

// Move the cursor of the editor holding `file` to a line and column, and put focus there.
function goTo(file, line, col) {
  const view = editors.get(file);
  if (!view) return false;
  const { from } = rangeOf(view.state.doc, line, col);
  view.dispatch({ selection: EditorSelection.cursor(from), scrollIntoView: true });
  view.focus();
  return true;
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

// A file as the page names it: "grants.yaml (programme)", "contact.yaml (form)".
function fileLabel(name) {
  const [folder, ...rest] = String(name).split("/");
  return `${rest.join("/")} (${folder === "programmes" ? "programme" : "form"})`;
}

// The page that edits another file of the draft: this form's own address, naming that file.
function addressOf(textarea, file) {
  const url = new URL(textarea.form ? textarea.form.action : window.location.href);
  url.searchParams.set("file", file);
  url.hash = textarea.id || "";
  return url.href;
}

// The list region, written as the server writes it: how many problems as a heading, then each
// with a link to its line (in this page's editor, or the page of the file it is in).
function showProblems(region, problems, summary, textarea, note) {
  const key = JSON.stringify([problems, summary, note]);
  if (region.dataset.shown === key) return; // unchanged: a screen reader hears nothing new
  if (region.dataset.shown === undefined) {
    // the first check says again what the page already said: written without announcing it
    const live = region.getAttribute("aria-live");
    region.setAttribute("aria-live", "off");
    setTimeout(() => region.setAttribute("aria-live", live || "polite"), 1000);
  }
  region.dataset.shown = key;
  const heading = region.querySelector("h2, h3, p");
  const title = element(heading ? heading.tagName.toLowerCase() : "h2", "", summary);
  title.className = heading ? heading.className : "govuk-heading-m";
  if (heading && heading.id) title.id = heading.id;
  region.replaceChildren(title);
  if (note) region.append(element("p", "govuk-body", note));
  if (!problems.length) return;
  const list = element("ul", "govuk-list govuk-list--spaced app-lint-list");
  for (const problem of problems) {
    const item = element("li");
    const link = element("a", "govuk-link", `${fileLabel(problem.file)}, line ${problem.line}`);
    const view = editors.get(problem.file);
    link.href = view ? `#${view.dom.id}` : addressOf(textarea, problem.file);
    if (view) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        goTo(problem.file, problem.line, problem.col);
      });
    }
    item.append(link, `: ${problem.message}`);
    list.append(item);
  }
  region.append(list);
}

function summaryOf(count) {
  return count === 0 ? "No problems found" : count === 1 ? "1 problem" : `${count} problems`;
}

// The linter: the file's whole text to the server, its problems back as markers in this file
// and as the list. A request still running when the person types again is abandoned.
function lintSource(textarea) {
  const url = textarea.dataset.lintUrl;
  const file = textarea.dataset.file;
  let running = null;
  return async (view) => {
    if (running) running.abort();
    const controller = (running = new AbortController());
    const doc = view.state.doc;
    const region = listOf(textarea);
    let answer;
    try {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfTokenOf(textarea),
        },
        body: JSON.stringify({ file, text: doc.toString() }),
        signal: controller.signal,
      });
      const type = response.headers.get("Content-Type") || "";
      // a session that ended answers with the sign-in page, not JSON: no markers, say so
      answer = response.ok && type.includes("json") ? await response.json() : null;
    } catch (error) {
      if (controller.signal.aborted) return []; // typed again: the newer request answers
      answer = null;
    }
    if (running === controller) running = null;
    if (view.state.doc !== doc) return []; // changed meanwhile: CodeMirror asks again
    if (!answer || !Array.isArray(answer.problems)) {
      if (region) showProblems(region, [], NOT_CHECKED, textarea, UNCHECKED);
      return [];
    }
    const problems = answer.problems;
    if (region) {
      showProblems(region, problems, answer.summary || summaryOf(problems.length), textarea);
    }
    return problems
      .filter((problem) => problem.file === file)
      .map((problem) => ({
        ...rangeOf(doc, problem.line, problem.col),
        severity: problem.severity === "warning" ? "warning" : "error",
        message: problem.message,
        source: problem.code,
      }));
  };
}

// Typed text is lost by following a link or closing the tab: the browser's own "Leave site?"
// question is asked first when the text differs from what was last saved. The page opened with
// the saved text, unless it is showing a save that was refused (`data-unsaved`): then nothing
// typed is saved yet.
function warnBeforeLeaving(textarea, view, sending) {
  const saved = textarea.hasAttribute("data-unsaved") ? null : view.state.doc.toString();
  window.addEventListener("beforeunload", (event) => {
    if (sending() || view.state.doc.toString() === saved) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers ask only when this is set
  });
}

function enhance(textarea) {
  const file = textarea.dataset.file;
  const id = textarea.id || `editor-${editors.size + 1}`;
  // Tab indents, as YAML needs; CodeMirror's own escape lets keyboard users out (Escape, then
  // Tab moves on; Ctrl+M turns Tab-indents off), and this hint says so before they need it.
  const keys = element(
    "p",
    "govuk-hint app-code-keys",
    "Tab indents a line. To move out of the editor, press Escape and then Tab.",
  );
  keys.id = `${id}-keys`;
  const described = [textarea.getAttribute("aria-describedby"), keys.id].filter(Boolean).join(" ");
  const view = new EditorView({
    doc: textarea.value,
    extensions: [
      basicSetup,
      keymap.of([indentWithTab]),
      yaml(),
      EditorView.lineWrapping, // a long description wraps: no sideways scrolling, zoomed or not
      lintGutter(),
      linter(lintSource(textarea), { delay: DELAY_MS }),
      styleNonce ? EditorView.cspNonce.of(styleNonce) : [],
      // CodeMirror owns its element's class and attributes: ours are given to it, not set after
      EditorView.editorAttributes.of({
        id: `${id}-editor`,
        class: textarea.classList.contains("govuk-textarea--error")
          ? "app-code-editor app-code-editor--error"
          : "app-code-editor",
      }),
      EditorView.contentAttributes.of({
        "aria-label": labelOf(textarea),
        "aria-describedby": described,
        spellcheck: "false",
        tabindex: "0", // in the tab order already (contenteditable); said so for checkers such as axe
        autocapitalize: "off",
        autocorrect: "off",
      }),
    ],
  });
  textarea.after(keys, view.dom);
  textarea.hidden = true;
  textarea.style.display = "none"; // .govuk-textarea's display: block outranks `hidden`
  if (file) editors.set(file, view);

  // The form posts the editor's text, whichever way it is sent.
  let sending = false;
  if (textarea.form) {
    textarea.form.addEventListener("submit", () => {
      textarea.value = view.state.doc.toString();
      sending = true; // saving is leaving the page with nothing lost: no warning
    });
  }
  warnBeforeLeaving(textarea, view, () => sending);
  // back to this page from the browser's cache: it is on the page again, not sending
  window.addEventListener("pageshow", () => {
    sending = false;
  });
  // The label, and an error summary's link, point at the (now hidden) textarea: the editor instead.
  const label = textarea.id && document.querySelector(`label[for="${CSS.escape(textarea.id)}"]`);
  if (label) label.addEventListener("click", () => view.focus());
  document.addEventListener(
    "click",
    (event) => {
      const link = event.target.closest && event.target.closest(`a[href="#${CSS.escape(id)}"]`);
      if (!link) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      view.dom.scrollIntoView({ block: "center" });
      view.focus();
    },
    true,
  );
  // a link from another page to this field ("…?file=forms/x.yaml#text") lands in the editor
  if (window.location.hash === `#${id}`) {
    view.dom.scrollIntoView({ block: "center" });
    view.focus();
  }
  return view;
}

function enhanceAll() {
  const views = [...document.querySelectorAll("textarea[data-yaml-editor]")].map(enhance);
  // every editor is known before the first check, so its list links to all of them
  for (const view of views) forceLinting(view);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", enhanceAll);
} else {
  enhanceAll();
}
