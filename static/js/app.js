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
