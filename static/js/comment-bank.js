// The comment bank picker, keyboard first: the ARIA 1.2 combobox pattern with a listbox popup (list
// autocomplete, selection only by the teacher). Any text box with role=combobox and data-bank="<id of a
// <template> of <li>s>" gets it; the page works without it (the box is a plain text box then).
//
//   typing    filters the list to the entries holding what was typed (it opens when something matches)
//   Alt+↓     opens the whole list; ↓ / ↑ move through an open list (↑ from the first goes back to the text)
//   Enter     on an entry: puts it in the box (saved when the box is left, as any typing is);
//             on no entry: the text is the teacher's own feedback, as it is
//   Esc       closes the list; the text in the box is then the teacher's own
//
// Half-typed text is not feedback: when the box is left (Tab, a click elsewhere) while what was typed is
// still only part of some entry in the bank, and the teacher neither picked an entry, nor pressed Enter, nor
// closed the list with Esc, the text is taken as a search. It is not saved: it stays in the box, marked
// "not saved", until the teacher presses Enter (keep it as it is) or picks an entry. Text that matches no
// entry, or equals one, is the teacher's own writing and saves as usual.
"use strict";

(() => {
  const BOX = "[role=combobox][data-bank]";

  function liveRegion() {
    let region = document.getElementById("bank-live");
    if (!region) {
      region = document.createElement("div");
      region.id = "bank-live";
      region.className = "sr-only";
      region.setAttribute("role", "status");
      document.body.appendChild(region);
    }
    return region;
  }

  function entries(box) {
    const source = document.getElementById(box.dataset.bank);
    if (!source) return [];
    const root = source.content || source;
    return Array.from(root.querySelectorAll("li")).map((li) => ({ text: li.textContent, kind: li.dataset.kind || "" }));
  }

  const fold = (text) => text.trim().toLowerCase();

  // Entries holding the text and longer than it: what the text may be the start of a search for.
  function extending(box) {
    const typed = fold(box.value);
    if (!typed) return [];
    return entries(box).filter((e) => fold(e.text) !== typed && fold(e.text).includes(typed));
  }

  const listOf = (box) => document.getElementById(box.getAttribute("aria-controls"));
  const isOpen = (box) => box.getAttribute("aria-expanded") === "true";
  const options = (box) => Array.from(listOf(box).querySelectorAll("[role=option]"));

  function close(box) {
    const list = listOf(box);
    if (list) list.hidden = true;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }

  function open(box, all) {
    const list = listOf(box);
    if (!list) return;
    const typed = fold(box.value);
    const shown = all || !typed ? entries(box) : entries(box).filter((e) => fold(e.text).includes(typed));
    list.replaceChildren(...shown.map((entry, i) => {
      const option = document.createElement("li");
      option.id = `${list.id}-${i}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.textContent = entry.text;
      if (entry.kind === "step") option.classList.add("bank-step");
      return option;
    }));
    if (!shown.length) {
      close(box);
      liveRegion().textContent = typed ? "No comment in your bank holds that." : "";
      return;
    }
    list.hidden = false;
    place(box, list);
    box.setAttribute("aria-expanded", "true");
    box.removeAttribute("aria-activedescendant");
    liveRegion().textContent = `${shown.length} ${shown.length === 1 ? "comment" : "comments"} from your bank: ↓ to choose.`;
  }

  // Fixed under (or, near the bottom of the window, over) the box: the sheet's scrolling table would clip it.
  function place(box, list) {
    const rect = box.getBoundingClientRect();
    const below = window.innerHeight - rect.bottom;
    list.style.left = `${Math.max(4, rect.left)}px`;
    list.style.width = `${Math.max(rect.width, 256)}px`;
    if (below < 200 && rect.top > below) {
      list.style.top = "auto";
      list.style.bottom = `${window.innerHeight - rect.top + 2}px`;
    } else {
      list.style.bottom = "auto";
      list.style.top = `${rect.bottom + 2}px`;
    }
  }

  window.addEventListener("scroll", () => {
    document.querySelectorAll(`${BOX}[aria-expanded=true]`).forEach((box) => place(box, listOf(box)));
  }, true);

  function activate(box, index) {
    const all = options(box);
    all.forEach((option, i) => option.setAttribute("aria-selected", i === index ? "true" : "false"));
    if (index < 0 || index >= all.length) {
      box.removeAttribute("aria-activedescendant");
      return;
    }
    box.setAttribute("aria-activedescendant", all[index].id);
    all[index].scrollIntoView({ block: "nearest" });
  }

  function activeIndex(box) {
    const id = box.getAttribute("aria-activedescendant");
    return id ? options(box).findIndex((option) => option.id === id) : -1;
  }

  // The teacher means this text as it is (picked, confirmed with Enter, or the list closed with Esc).
  function confirm(box) {
    box.dataset.bankConfirmed = box.value;
    clearNotice(box);
  }

  function pick(box, option) {
    box.value = option.textContent;
    confirm(box);
    close(box);
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    if (box.dataset.bankFill) { // a picker that fills another box (the cell detail's feedback)
      const target = document.getElementById(box.dataset.bankFill);
      if (target) {
        target.value = target.value.trim() ? `${target.value.trim()} ${option.textContent}` : option.textContent;
        box.value = "";
        target.focus();
      }
    }
  }

  function isSearch(box) {
    return box.dataset.bankConfirmed !== box.value && extending(box).length > 0;
  }

  function notice(box) {
    const status = box.parentElement.querySelector(".feedback-status");
    if (!status) return;
    status.className = "feedback-status error";
    status.setAttribute("role", "status");
    status.textContent = `Not saved: “${box.value.trim()}” is still part of a comment in your bank. ` +
      "Press Enter in the box to save it as it is, or pick a comment.";
    box.dataset.unsaved = "search";
  }

  function clearNotice(box) {
    if (box.dataset.unsaved !== "search") return;
    delete box.dataset.unsaved;
    const status = box.parentElement.querySelector(".feedback-status");
    if (status) {
      status.className = "feedback-status";
      status.textContent = "";
    }
  }

  document.addEventListener("input", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLElement) || !box.matches(BOX)) return;
    delete box.dataset.bankConfirmed;
    if (fold(box.value)) open(box, false); else close(box);
  });

  // Keys first, in the capture phase: while the list is open they are the picker's, not the entry sheet's
  // (whose Enter and arrows move between rows).
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLElement) || !box.matches(BOX)) return;
    const shown = isOpen(box);
    const handled = () => { event.preventDefault(); event.stopPropagation(); };
    if (event.key === "ArrowDown" && (event.altKey || !shown)) {
      if (!event.altKey) return; // a closed list: ↓ is the sheet's (next student)
      handled();
      open(box, true);
    } else if (event.key === "ArrowDown" && shown) {
      handled();
      activate(box, Math.min(activeIndex(box) + 1, options(box).length - 1));
    } else if (event.key === "ArrowUp" && shown) {
      handled();
      activate(box, activeIndex(box) - 1);
    } else if (event.key === "Enter" && shown && activeIndex(box) >= 0) {
      handled();
      pick(box, options(box)[activeIndex(box)]);
    } else if (event.key === "Enter" && box.dataset.bankFill) {
      handled(); // a picker that fills another box has nothing of its own to keep (nor a form to send)
      close(box);
    } else if (event.key === "Enter") {
      confirm(box); // the text as it is: the sheet's Enter then moves on, and leaving saves it
      close(box);
      if (box.value === box.dataset.bankAtFocus && box.value !== box.defaultValue && window.htmx) {
        // Kept back as a search before: unchanged since the box was entered, so the browser fires no change.
        window.htmx.trigger(box, "change");
      }
    } else if (event.key === "Escape" && shown) {
      handled();
      confirm(box);
      close(box);
    }
  }, true);

  // Half-typed text is a search: its change is kept from htmx (which would save it), in the capture phase.
  document.addEventListener("change", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLElement) || !box.matches(BOX)) return;
    if (isSearch(box)) {
      event.stopPropagation();
      close(box);
      notice(box);
    }
  }, true);

  document.addEventListener("focusin", (event) => {
    const box = event.target;
    if (box instanceof HTMLElement && box.matches(BOX)) box.dataset.bankAtFocus = box.value;
  });

  document.addEventListener("focusout", (event) => {
    const box = event.target;
    if (box instanceof HTMLElement && box.matches(BOX)) close(box);
  });

  // Entries are picked with the mouse too: the press keeps the focus in the box.
  document.addEventListener("mousedown", (event) => {
    if (event.target instanceof Element && event.target.closest(".bank-list [role=option]")) event.preventDefault();
  });
  document.addEventListener("click", (event) => {
    const option = event.target instanceof Element && event.target.closest(".bank-list [role=option]");
    if (!option) return;
    const box = document.querySelector(`[aria-controls="${option.parentElement.id}"]`);
    if (box) pick(box, option);
  });

  // "Save to bank": once saved, the comment is offered by every picker on the page at once.
  document.addEventListener("htmx:after:request", (event) => {
    const button = event.target instanceof Element && event.target.closest(".bank-save");
    const ctx = event.detail && event.detail.ctx;
    if (!button || !ctx || !ctx.response || ctx.response.status !== 200) return;
    const box = document.getElementById(button.dataset.bankBox);
    const source = box && document.getElementById(button.dataset.bankSource || box.dataset.bank);
    const text = box && box.value.trim();
    if (!source || !text) return;
    const root = source.content || source;
    if (Array.from(root.querySelectorAll("li")).some((li) => li.textContent === text)) return;
    const item = document.createElement("li");
    item.dataset.kind = "bank";
    item.textContent = text;
    root.prepend(item);
  });
})();
