// Sortable tables for `zoo report`, written for it (no library): click a column's header button
// to sort the table's rows by that column; click again to reverse. A cell sorts by its
// data-sort attribute when it has one (numbers), else by its text; empty cells go last.
// A header's data-first says which order its first click gives ("descending" for metrics
// where higher is better, so the best come first).
"use strict";

(function () {
  function key(cell, numeric) {
    const raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    if (raw === "") return null;
    if (!numeric) return raw;
    const value = Number(raw);
    return Number.isNaN(value) ? null : value;
  }

  function compare(a, b, numeric) {
    if (numeric) return a - b;
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortBy(table, index, header) {
    const numeric = header.dataset.type === "number";
    const current = header.getAttribute("aria-sort");
    const first = header.dataset.first || "ascending";
    const order = current === null ? first : current === "ascending" ? "descending" : "ascending";
    const sign = order === "ascending" ? 1 : -1;
    const body = table.tBodies[0];
    const rows = Array.from(body.rows).map((row) => ({ row, key: key(row.cells[index], numeric) }));
    rows.sort((x, y) => {
      if (x.key === null || y.key === null) return (x.key === null) - (y.key === null);
      return sign * compare(x.key, y.key, numeric);
    });
    for (const { row } of rows) body.appendChild(row);
    for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
    header.setAttribute("aria-sort", order);
  }

  for (const table of document.querySelectorAll("table.sortable")) {
    Array.from(table.tHead.rows[0].cells).forEach((header, index) => {
      const button = header.querySelector("button");
      if (button) button.addEventListener("click", () => sortBy(table, index, header));
    });
  }
})();
