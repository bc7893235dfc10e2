// The change preview's table: the rows are JSON in #data; only one page of them is in the
// DOM at a time, so 10,000 products open and filter at once. Text goes in as textContent.
"use strict";
(function () {
  const PAGE = 100;
  const rows = JSON.parse(document.getElementById("data").textContent);
  let indexed = false;
  function index() {
    // The searched text of each row, made on the first search rather than at open.
    for (const row of rows) {
      const cells = row.d.map((d) => d[0]).join(" ");
      row.t = [row.id, row.f || "", row.r || "", row.st, cells].join(" ").toLowerCase();
    }
    indexed = true;
  }
  const $ = (id) => document.getElementById(id);
  const body = document.querySelector("#rows tbody");
  let shown = rows;
  let page = 0;

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function details(row) {
    const cell = el("td", undefined, "what");
    if (row.r) cell.appendChild(el("div", row.r, "reason"));
    if (row.n) cell.appendChild(el("div", row.n, "muted"));
    if (row.d.length && row.s !== "refused") {
      const table = el("table", undefined, "diff");
      const head = el("tr");
      for (const name of ["attribute", "locale", "channel", "PIM now", "run sends"]) {
        head.appendChild(el("th", name));
      }
      table.appendChild(head);
      for (const [attribute, locale, channel, current, sent] of row.d) {
        const line = el("tr");
        line.dataset.attribute = attribute;
        line.dataset.locale = locale;
        line.dataset.channel = channel;
        line.appendChild(el("td", attribute, "mono"));
        line.appendChild(el("td", locale));
        line.appendChild(el("td", channel));
        line.appendChild(el("td", current, "cur"));
        line.appendChild(el("td", sent, "sent"));
        table.appendChild(line);
      }
      cell.appendChild(table);
    }
    return cell;
  }

  function render() {
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(page, pages - 1);
    const part = document.createDocumentFragment();
    for (const row of shown.slice(page * PAGE, (page + 1) * PAGE)) {
      const line = el("tr");
      line.dataset.id = row.id;
      line.dataset.status = row.s;
      const status = el("td");
      status.appendChild(el("span", row.s, "badge " + row.s));
      line.appendChild(status);
      line.appendChild(el("td", row.k === "product_model" ? "model" : "product"));
      line.appendChild(el("td", row.id, "id"));
      line.appendChild(el("td", row.f || ""));
      line.appendChild(details(row));
      part.appendChild(line);
    }
    body.replaceChildren(part);
    $("shown").textContent = shown.length + " of " + rows.length + " shown";
    $("pageno").textContent = "page " + (page + 1) + " of " + pages;
    $("prev").disabled = page === 0;
    $("next").disabled = page >= pages - 1;
  }

  function filter() {
    const status = $("status").value;
    const family = $("family").value;
    const words = $("q").value.toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length && !indexed) index();
    shown = rows.filter(
      (row) =>
        (!status || row.s === status) &&
        (!family || row.f === family) &&
        words.every((word) => row.t.includes(word)),
    );
    page = 0;
    render();
  }

  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("status").addEventListener("change", filter);
  $("family").addEventListener("change", filter);
  $("q").addEventListener("input", filter);
  $("prev").addEventListener("click", () => { page -= 1; render(); });
  $("next").addEventListener("click", () => { page += 1; render(); });
  for (const tile of document.querySelectorAll("#counts li")) {
    const name = tile.dataset.count;
    if (["new", "changed", "unchanged", "refused"].includes(name)) {
      tile.style.cursor = "pointer";
      tile.addEventListener("click", () => { $("status").value = name; filter(); });
    }
  }
  render();
  // Milliseconds from navigation to the first page of rows (read by bench/section_pages.py).
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.ready = "true";
})();
