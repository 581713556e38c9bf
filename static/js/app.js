// Gradebook: the little JavaScript there is. Every form still works without it.
"use strict";

// Spreadsheet keys on an assessment's entry sheet: Enter / arrows move between cells; the browser's
// own `change` event (fired when focus leaves a changed cell) makes htmx save that cell.
document.addEventListener("keydown", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.closest("table.entry-grid")) return;
  const cell = input.closest("td");
  const row = cell.parentElement;
  const col = Array.prototype.indexOf.call(row.children, cell);
  let target = null;
  // A cell just moved into has its content selected: the arrows then move on, as in a spreadsheet; with the
  // caret inside the text they move the caret.
  const atStart = input.selectionStart === 0;
  const atEnd = input.selectionEnd === input.value.length;
  if (event.key === "Enter" && cell.dataset.state === "failed" && input.value === input.dataset.failedValue &&
      window.htmx) {
    // Enter on a cell whose save failed, unchanged since: try again (the browser fires no change for it).
    window.htmx.trigger(input, "change");
  }
  if (event.key === "Enter" || event.key === "ArrowDown") {
    target = row.nextElementSibling && row.nextElementSibling.children[col];
    event.preventDefault();
  } else if (event.key === "ArrowUp") {
    target = row.previousElementSibling && row.previousElementSibling.children[col];
    event.preventDefault();
  } else if (event.key === "ArrowRight" && atEnd) {
    target = cell.nextElementSibling;
  } else if (event.key === "ArrowLeft" && atStart) {
    target = cell.previousElementSibling;
  } else {
    return;
  }
  const next = target && target.querySelector("input[type=text]");
  if (next) {
    event.preventDefault();
    next.focus();
    next.select();
  } else if (event.key === "Enter") {
    // The last row: save now, through the browser's own change event (blur), and stay in the cell. A
    // synthetic change would leave the browser's own one pending, to fire again when the teacher moves on
    // and post the same value against the version that was just replaced (a false conflict).
    input.blur();
    input.focus();
  }
});

// Select a cell's content on focus, as a spreadsheet does, so typing replaces it.
document.addEventListener("focusin", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.closest("table.entry-grid") && input.type === "text") {
    input.select();
  }
});

// After a save in the cell-detail panel, refresh the grid behind it.
document.body.addEventListener("proficiencyChanged", () => {
  const grid = document.getElementById("grid");
  const tools = document.querySelector("form.grid-tools");
  if (grid && tools && window.htmx) {
    window.htmx.ajax("GET", tools.getAttribute("action") + window.location.search, { target: "#grid", swap: "outerHTML" });
  }
});

// Print buttons (no inline script: the CSP forbids it).
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) window.print();
});

// A read-only link to copy (set-password links after a roster import) is selected whole when focused.
document.addEventListener("focusin", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.hasAttribute("data-select-on-focus")) input.select();
});

// Saves that fail on the entry sheet (the network is down, the server failed) are never silent: the cell
// keeps what was typed, says it is not saved, and offers to try again; the page warns before it is left with
// anything unsaved. The server's own answers (200 saved, 409 conflict, 422 bad value) carry the cell and
// are swapped in as usual; any other answer (a 500 page, a 403, ...) is not swapped over the cell.
const AUTOSAVED = "#entry-form input[type=text][hx-post]";
const CELL_ANSWERS = [200, 409, 422];

// The autosaved input a request is about: the input itself, or the cell of a conflict's "Use mine" button.
function autosaved(event) {
  const ctx = event.detail && event.detail.ctx;
  const element = (ctx && ctx.sourceElement) || event.target;
  if (!(element instanceof Element)) return null;
  if (element.matches(AUTOSAVED)) return element;
  const cell = element.closest("#entry-form td.entry-cell");
  return cell ? cell.querySelector(AUTOSAVED) : null;
}

// Where a failure is told: an entry cell's error box, or a feedback box's status line.
function failureBox(input) {
  const cell = input.closest("td.entry-cell");
  if (!cell) return input.parentElement.querySelector(".feedback-status");
  let box = cell.querySelector(".cell-error");
  if (!box) {
    box = document.createElement("div");
    box.className = "cell-error";
    box.id = "err-" + input.id.replace(/^in-/, "");
    box.setAttribute("role", "alert");
    cell.appendChild(box);
  }
  return box;
}

function markNotSaved(input, reason) {
  const cell = input.closest("td.entry-cell");
  if (cell) {
    cell.dataset.state = "failed";
    const saved = cell.querySelector(".cell-state.saved");
    if (saved) saved.remove();
  }
  input.dataset.unsaved = "failed";
  input.dataset.failedValue = input.value;
  const box = failureBox(input);
  if (!box) return;
  box.classList.add("error");
  box.setAttribute("role", "alert");
  box.textContent = `Not saved: ${reason}. What you typed is kept here. `;
  const retry = document.createElement("button");
  retry.type = "button";
  retry.className = "retry";
  retry.textContent = "Retry";
  retry.setAttribute("aria-label", `Retry saving ${input.getAttribute("aria-label") || "this"}`);
  box.appendChild(retry);
  input.setAttribute("aria-invalid", "true");
  if (box.id) input.setAttribute("aria-describedby", box.id);
}

document.addEventListener("htmx:before:request", (event) => {
  const input = autosaved(event);
  if (!input) return;
  input.dataset.unsaved = "saving";
  const cell = input.closest("td.entry-cell");
  if (cell && cell.dataset.state === "failed") {
    cell.dataset.state = "";
    const box = cell.querySelector(".cell-error");
    if (box) box.remove();
  }
});

document.addEventListener("htmx:after:request", (event) => {
  const input = autosaved(event);
  if (!input) return;
  const status = event.detail.ctx.response.status;
  if (!CELL_ANSWERS.includes(status)) {
    event.preventDefault(); // keep the cell (and what was typed) rather than swap an error page over it
    markNotSaved(input, status >= 500 ? `the server had a problem (error ${status})`
      : `the server refused it (error ${status}); reload the page and type it again`);
    return;
  }
  if (status === 200) {
    delete input.dataset.unsaved;
    input.defaultValue = input.value; // a feedback box stays on the page: what it holds is now saved
  } else {
    input.dataset.unsaved = "refused";
  }
});

document.addEventListener("htmx:error", (event) => {
  const input = autosaved(event);
  if (input && input.dataset.unsaved === "saving") markNotSaved(input, "the connection failed");
});

document.addEventListener("click", (event) => {
  const retry = event.target instanceof Element && event.target.closest(".cell-error .retry, .feedback-status .retry");
  if (!retry) return;
  const container = retry.closest("td");
  const input = container && container.querySelector(AUTOSAVED);
  if (input && window.htmx) window.htmx.trigger(input, "change");
});

// Unsaved: typed and not yet sent, being sent, failed, or refused (a conflict or a bad value to settle).
function unsavedInputs() {
  return Array.from(document.querySelectorAll(AUTOSAVED)).filter((input) => {
    const cell = input.closest("td.entry-cell");
    return input.value !== input.defaultValue || input.dataset.unsaved ||
      (cell && (cell.dataset.state === "error" || cell.dataset.state === "failed"));
  });
}

let submittingEntrySheet = false; // "Save all" posts every cell: leaving then is saving, not losing
document.addEventListener("submit", (event) => {
  if (event.target instanceof HTMLFormElement && event.target.id === "entry-form" && !event.defaultPrevented) {
    submittingEntrySheet = true;
  }
});

window.addEventListener("beforeunload", (event) => {
  if (submittingEntrySheet || unsavedInputs().length === 0) return;
  event.preventDefault();
  event.returnValue = ""; // older browsers need it set to show their "leave the page?" dialog
});

// The grid's side panel: its close button (and Escape) empties it, so the grid takes the whole width again.
function closePanel() {
  const panel = document.getElementById("panel");
  if (!panel || !panel.firstElementChild) return false;
  panel.replaceChildren();
  return true;
}
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-close-panel]")) closePanel();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && document.getElementById("panel")?.contains(document.activeElement) && closePanel()) {
    document.getElementById("grid")?.focus();
  }
});

// The section page's standards picker: a standard ticked among search results joins the chosen list before the
// next search replaces the results, so ticking across several searches keeps every tick until "Save".
document.addEventListener("htmx:before:swap", (event) => {
  if (!(event.target instanceof Element) || !event.target.closest("form.standards-search")) return;
  const chosen = document.getElementById("chosen-standards");
  const found = document.getElementById("standards-found");
  if (!chosen || !found) return;
  found.querySelectorAll("input[name=standards]:checked").forEach((box) => chosen.appendChild(box.closest("li")));
});
