// The class journal page: a keyboard-first grid (UI.md «The class journal page»).
// Writes go to the JSON API with the session cookie, the CSRF header and an Idempotency-Key
// that is reused when the same failed save is retried.

const grid = document.getElementById("journal");
const statusBox = document.getElementById("status");
const alertBox = document.getElementById("alert");
const cellInfo = document.getElementById("cell-info");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const subjectId = grid.dataset.subject;
const groupId = grid.dataset.group;
const lowest = Number(grid.dataset.lowestMark || "2") <= 1 ? 1 : 2;
const pageReadOnly = grid.dataset.readOnly === "true";
const viewerId = grid.dataset.viewer;
const viewerName = grid.dataset.viewerName;
const zone = grid.dataset.zone || undefined; // the school's wall clock, not the browser's

const ROLE_NAMES = {
  teacher: "преподаватель", deputy: "заместитель директора", director: "директор",
  admin: "администратор", curator: "куратор", archivist: "архивист", system: "система",
};
const ABSENCES = ["Н", "НУ", "НН", "Б"];
const KIND_STORE = "ejournal.lessonKinds";

// --- the grid as rows × columns -------------------------------------------------------

const rows = Array.from(grid.tBodies[0]?.rows || []).filter((r) => r.dataset.student);
const matrix = rows.map((r) => Array.from(r.querySelectorAll("td[data-student]")));
const state = new WeakMap(); // cell -> {typed, adding, key, request}

function stateOf(cell) {
  let s = state.get(cell);
  if (!s) {
    s = { typed: "", adding: false, key: null, request: null };
    state.set(cell, s);
  }
  return s;
}

function position(cell) {
  for (let r = 0; r < matrix.length; r++) {
    const c = matrix[r].indexOf(cell);
    if (c >= 0) return [r, c];
  }
  return [-1, -1];
}

function focusCell(cell) {
  if (!cell) return;
  for (const row of matrix) for (const c of row) if (c !== cell) c.tabIndex = -1;
  cell.tabIndex = 0;
  cell.focus();
}

function move(cell, dr, dc) {
  const [r, c] = position(cell);
  if (r < 0) return;
  const nr = Math.max(0, Math.min(matrix.length - 1, r + dr));
  const nc = Math.max(0, Math.min(matrix[nr].length - 1, c + dc));
  focusCell(matrix[nr][nc]);
}

function studentName(cell) {
  return cell.closest("tr").querySelector('[role="rowheader"]').textContent.trim();
}

function columnLabel(cell) {
  const [, c] = position(cell);
  const heads = grid.tHead.rows[0].querySelectorAll("th.lesson");
  return heads[c] ? heads[c].textContent.trim() : cell.dataset.date;
}

function readOnly(cell) {
  return pageReadOnly || cell.getAttribute("aria-readonly") === "true";
}

function activeMarks(cell) {
  return Array.from(cell.querySelectorAll(".mark[data-mark-id]"));
}

// --- messages ----------------------------------------------------------------------------

function say(text) {
  alertBox.textContent = "";
  statusBox.textContent = text;
}

function complain(text) {
  statusBox.textContent = "";
  alertBox.textContent = text;
}

async function problemText(response) {
  try {
    const body = await response.json();
    if (body && body.detail) return String(body.detail);
  } catch (e) {
    /* not JSON */
  }
  return `Ошибка сервера (${response.status})`;
}

// --- the API -----------------------------------------------------------------------------

async function call(method, url, body, key) {
  const headers = { "X-CSRF-Token": csrf };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return { ok: false, detail: "Нет связи с сервером; запись не сохранена, нажмите Enter ещё раз" };
  }
  if (response.status === 401) {
    return { ok: false, detail: "Сеанс завершён; войдите снова (введённое осталось в клетке)" };
  }
  if (!response.ok) return { ok: false, detail: await problemText(response) };
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  return { ok: true, data };
}

// The same request retried keeps its key: a save that reached the server is not doubled.
function keyFor(cell, request) {
  const s = stateOf(cell);
  const text = JSON.stringify(request);
  if (s.request !== text || !s.key) {
    s.key = crypto.randomUUID();
    s.request = text;
  }
  return s.key;
}

// --- showing a cell ----------------------------------------------------------------------

function showPending(cell) {
  const s = stateOf(cell);
  let box = cell.querySelector(".pending");
  if (!s.typed && !s.adding) {
    if (box) box.remove();
    return;
  }
  if (!box) {
    box = document.createElement("span");
    box.className = "pending";
    cell.append(box);
  }
  box.textContent = (s.adding ? "+" : "") + s.typed;
}

function markUnsaved(cell, yes) {
  let flag = cell.querySelector(".unsaved");
  if (yes) {
    cell.setAttribute("aria-invalid", "true");
    if (!flag) {
      flag = document.createElement("span");
      flag.className = "unsaved";
      flag.textContent = "не сохранено";
      cell.append(flag);
    }
  } else {
    cell.removeAttribute("aria-invalid");
    if (flag) flag.remove();
  }
}

function clearTyping(cell) {
  const s = stateOf(cell);
  s.typed = "";
  s.adding = false;
  s.key = null;
  s.request = null;
  showPending(cell);
  markUnsaved(cell, false);
}

function separate(cell) {
  if (cell.querySelector(".mark, .absence")) cell.append(document.createTextNode(" "));
}

function addMark(cell, mark) {
  separate(cell);
  const span = document.createElement("span");
  span.className = "mark";
  span.dataset.markId = mark.mark_id;
  span.dataset.value = String(mark.value);
  const v = document.createElement("span");
  v.className = "v";
  v.textContent = String(mark.value);
  span.append(v);
  const before = cell.querySelector(".pending, .unsaved");
  cell.insertBefore(span, before);
}

function addAbsence(cell, absence) {
  separate(cell);
  const span = document.createElement("span");
  span.className = "absence";
  span.dataset.absenceId = absence.absence_id;
  span.textContent = absence.code;
  cell.insertBefore(span, cell.querySelector(".pending, .unsaved"));
}

function showCorrected(span, oldValue, newValue) {
  span.dataset.value = String(newValue);
  span.classList.add("corrected");
  span.querySelector(".v").textContent = String(newValue);
  let del = span.querySelector("del");
  if (!del) {
    del = document.createElement("del");
    del.title = "прежняя отметка";
    span.append(document.createTextNode(" "), del);
  }
  del.textContent = String(oldValue);
}

function updateAverage(row) {
  const values = Array.from(row.querySelectorAll(".mark[data-mark-id]")).map((m) =>
    Number(m.dataset.value),
  );
  const box = row.querySelector("td.avg");
  if (!box) return;
  if (!values.length) {
    box.textContent = "";
    return;
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  box.textContent = (Math.round(mean * 100 + 1e-9) / 100).toFixed(2);
  box.removeAttribute("title"); // the weighted average is the server's: shown after a reload
}

// --- saving ------------------------------------------------------------------------------

async function save(cell, request, apply, done) {
  const key = keyFor(cell, request);
  cell.setAttribute("aria-busy", "true");
  const result = await call("POST", request.url, request.body, key);
  cell.removeAttribute("aria-busy");
  if (!result.ok) {
    markUnsaved(cell, true);
    complain(result.detail);
    return false;
  }
  apply(result.data);
  clearTyping(cell);
  updateAverage(cell.closest("tr"));
  say(done);
  return true;
}

function entryBody(cell) {
  const body = {
    student_id: cell.dataset.student,
    subject_id: subjectId,
    lesson_date: cell.dataset.date,
  };
  if (cell.dataset.lessonNo) body.lesson_no = Number(cell.dataset.lessonNo);
  return body;
}

async function saveNew(cell, reason) {
  const s = stateOf(cell);
  const typed = s.typed;
  const who = `${studentName(cell)}, ${columnLabel(cell)}`;
  let request;
  let apply;
  if (ABSENCES.includes(typed)) {
    request = { url: "/api/v1/absences", body: { ...entryBody(cell), code: typed } };
    apply = (data) => addAbsence(cell, data);
  } else {
    request = {
      url: "/api/v1/marks",
      body: { ...entryBody(cell), work_kind: cell.dataset.kind || "oral", value: Number(typed) },
    };
    apply = (data) => addMark(cell, data);
  }
  if (reason) request.body.reason = reason;
  return save(cell, request, apply, `Сохранено: ${typed} — ${who}`);
}

async function saveCorrection(cell, span, value, reason) {
  const old = Number(span.dataset.value);
  const request = {
    url: `/api/v1/marks/${encodeURIComponent(span.dataset.markId)}/corrections`,
    body: { value, reason },
  };
  return save(
    cell,
    request,
    () => showCorrected(span, old, value),
    `Исправлено: ${old} → ${value} — ${studentName(cell)}, ${columnLabel(cell)}`,
  );
}

async function saveCancellation(cell, span, reason) {
  const old = span.dataset.value;
  const request = {
    url: `/api/v1/marks/${encodeURIComponent(span.dataset.markId)}/cancellation`,
    body: { reason },
  };
  return save(
    cell,
    request,
    () => {
      const prev = span.previousSibling;
      if (prev && prev.nodeType === Node.TEXT_NODE) prev.remove();
      span.remove();
    },
    `Отметка ${old} аннулирована — ${studentName(cell)}, ${columnLabel(cell)}`,
  );
}

// --- the reason dialog (corrections, cancellations, late entries) -------------------------

const reasonDialog = document.getElementById("reason-dialog");
const reasonForm = document.getElementById("reason-form");
const reasonText = document.getElementById("reason-text");
const reasonAlert = document.getElementById("reason-alert");
let reasonAction = null;
let reasonCell = null;

function askReason(cell, title, what, action) {
  reasonCell = cell;
  reasonAction = action;
  document.getElementById("reason-title").textContent = title;
  document.getElementById("reason-what").textContent = what;
  reasonAlert.textContent = "";
  reasonDialog.showModal();
  reasonText.focus();
}

reasonForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const reason = reasonText.value.trim();
  if (!reason) {
    reasonAlert.textContent = "Укажите причину";
    reasonText.setAttribute("aria-invalid", "true");
    reasonText.focus();
    return;
  }
  reasonText.removeAttribute("aria-invalid");
  const cell = reasonCell;
  const action = reasonAction;
  const saved = await action(reason);
  if (saved) {
    reasonText.value = "";
    reasonDialog.close();
    moveAfterSave(cell);
  } else {
    reasonAlert.textContent = alertBox.textContent;
  }
});

reasonDialog.addEventListener("close", () => {
  reasonText.removeAttribute("aria-invalid");
  if (reasonCell && document.activeElement !== reasonCell && !reasonCell.dataset.moved) {
    focusCell(reasonCell);
  }
  if (reasonCell) delete reasonCell.dataset.moved;
});

function moveAfterSave(cell) {
  const [r, c] = position(cell);
  cell.dataset.moved = "1";
  if (r >= 0 && r + 1 < matrix.length) focusCell(matrix[r + 1][c]);
  else focusCell(cell);
}

for (const button of document.querySelectorAll("dialog [data-close]")) {
  button.addEventListener("click", () => button.closest("dialog").close());
}

// --- history -----------------------------------------------------------------------------

const historyDialog = document.getElementById("history-dialog");
const historyBody = document.getElementById("history-body");
const historyAlert = document.getElementById("history-alert");
let historyCell = null;

function whoName(version) {
  if (version.actor_id === viewerId) return viewerName;
  return `${ROLE_NAMES[version.actor_role] || version.actor_role} (${version.actor_id})`;
}

async function showHistory(cell) {
  const marks = activeMarks(cell);
  if (!marks.length) {
    complain("В клетке нет отметки: истории нет");
    return;
  }
  historyCell = cell;
  historyBody.textContent = "";
  historyAlert.textContent = "";
  document.getElementById("history-title").textContent =
    `История отметки — ${studentName(cell)}, ${columnLabel(cell)}`;
  historyDialog.showModal();
  for (const span of marks) {
    const result = await call("GET", `/api/v1/marks/${encodeURIComponent(span.dataset.markId)}/history`);
    if (!result.ok) {
      historyAlert.textContent = result.detail;
      continue;
    }
    const table = document.createElement("table");
    table.className = "history";
    table.innerHTML =
      "<thead><tr><th scope='col'>Когда</th><th scope='col'>Кто</th>" +
      "<th scope='col'>Было → стало</th><th scope='col'>Причина</th></tr></thead><tbody></tbody>";
    let previous = null;
    for (const v of result.data.versions) {
      const tr = document.createElement("tr");
      const when = new Date(v.occurred_at).toLocaleString("ru-RU", { timeZone: zone });
      let change;
      if (previous === null) change = `записана ${v.value}`;
      else if (v.status === "cancelled") change = `${previous} → аннулирована`;
      else change = `${previous} → ${v.value}`;
      previous = v.value;
      for (const text of [when, whoName(v), change, (v.reason || "") + (v.late ? " (после срока)" : "")]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      table.tBodies[0].append(tr);
    }
    historyBody.append(table);
  }
}

historyDialog.addEventListener("close", () => {
  if (historyCell) focusCell(historyCell);
});

// --- typing ------------------------------------------------------------------------------

function letter(key) {
  const k = key.toUpperCase();
  if (k === "Н" || k === "N") return "Н";
  if (k === "У" || k === "E" || k === "U") return "У"; // «У» sits on the Latin E key
  if (k === "Б") return "Б";
  return null;
}

function typeKey(cell, key) {
  const s = stateOf(cell);
  if (/^[1-5]$/.test(key)) {
    if (Number(key) < lowest) {
      complain(`Отметка ${key} вне шкалы организации (${lowest}–5)`);
      return true;
    }
    s.typed = key;
  } else {
    const l = letter(key);
    if (l === null) return false;
    if (l === "Н" && s.typed === "Н") s.typed = "НН";
    else if (l === "У" && s.typed === "Н") s.typed = "НУ";
    else if (l === "У") return true;
    else s.typed = l;
  }
  markUnsaved(cell, false);
  showPending(cell);
  return true;
}

async function enter(cell) {
  const s = stateOf(cell);
  if (!s.typed) {
    move(cell, 1, 0);
    return;
  }
  if (readOnly(cell)) {
    complain(cell.getAttribute("title") || "Эту клетку изменить нельзя");
    return;
  }
  const marks = activeMarks(cell);
  const isMark = /^[1-5]$/.test(s.typed);
  if (isMark && marks.length && !s.adding) {
    const span = marks[marks.length - 1];
    const value = Number(s.typed);
    if (Number(span.dataset.value) === value) {
      complain(`Отметка уже ${value}; для второй отметки в клетке нажмите + перед цифрой`);
      return;
    }
    askReason(
      cell,
      "Исправление отметки",
      `${studentName(cell)}, ${columnLabel(cell)}: ${span.dataset.value} → ${value}`,
      (reason) => saveCorrection(cell, span, value, reason),
    );
    return;
  }
  if (cell.dataset.needsReason === "true") {
    askReason(
      cell,
      "Запись после срока",
      `${studentName(cell)}, ${columnLabel(cell)}: ${s.typed}. Срок истёк — нужна причина.`,
      (reason) => saveNew(cell, reason),
    );
    return;
  }
  if (await saveNew(cell)) moveAfterSave(cell);
}

function cancelMark(cell) {
  const marks = activeMarks(cell);
  if (!marks.length) {
    clearTyping(cell);
    return;
  }
  if (readOnly(cell)) {
    complain(cell.getAttribute("title") || "Эту клетку изменить нельзя");
    return;
  }
  const span = marks[marks.length - 1];
  askReason(
    cell,
    "Аннулирование отметки",
    `${studentName(cell)}, ${columnLabel(cell)}: отметка ${span.dataset.value}`,
    (reason) => saveCancellation(cell, span, reason),
  );
}

grid.addEventListener("keydown", (event) => {
  const cell = event.target.closest('td[role="gridcell"][data-student]');
  if (!cell || event.ctrlKey || event.metaKey || event.altKey) return;
  const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  const s = stateOf(cell);
  if (moves[event.key]) {
    event.preventDefault();
    move(cell, ...moves[event.key]);
  } else if (event.key === "Home") {
    event.preventDefault();
    focusCell(matrix[position(cell)[0]][0]);
  } else if (event.key === "End") {
    event.preventDefault();
    const row = matrix[position(cell)[0]];
    focusCell(row[row.length - 1]);
  } else if (event.key === "Enter") {
    event.preventDefault();
    enter(cell);
  } else if (event.key === "Escape") {
    if (s.typed || s.adding) {
      event.preventDefault();
      clearTyping(cell);
      say("Ввод отменён");
    }
  } else if (event.key === "Delete") {
    event.preventDefault();
    cancelMark(cell);
  } else if (event.key === "Backspace") {
    event.preventDefault();
    s.typed = s.typed.slice(0, -1);
    if (!s.typed) s.adding = false;
    showPending(cell);
  } else if (event.key === "+") {
    event.preventDefault();
    s.adding = true;
    showPending(cell);
  } else if (["h", "H", "р", "Р", "?"].includes(event.key) && !s.typed) {
    event.preventDefault();
    showHistory(cell);
  } else if (event.key.length === 1 && typeKey(cell, event.key)) {
    event.preventDefault();
  }
});

grid.addEventListener("focusin", (event) => {
  const cell = event.target.closest('td[role="gridcell"][data-student]');
  if (!cell) return;
  for (const row of matrix) for (const c of row) if (c !== cell) c.tabIndex = -1;
  cell.tabIndex = 0;
  const why = cell.getAttribute("aria-readonly") === "true" ? cell.getAttribute("title") : "";
  cellInfo.textContent = `${studentName(cell)}, ${columnLabel(cell)}` + (why ? ` — ${why}` : "");
  cellInfo.classList.toggle("read-only", Boolean(why));
});

grid.addEventListener("click", (event) => {
  const cell = event.target.closest('td[role="gridcell"][data-student]');
  if (cell) focusCell(cell);
});

// Start on the latest column that is still open, else the first cell.
(function initialFocus() {
  if (!matrix.length || !matrix[0].length) return;
  let col = 0;
  for (let c = matrix[0].length - 1; c >= 0; c--) {
    if (!readOnly(matrix[0][c])) {
      col = c;
      break;
    }
  }
  for (const row of matrix) for (const c of row) c.tabIndex = -1;
  matrix[0][col].tabIndex = 0;
})();

// --- the kind of work chosen for a lesson (the lesson record itself has none) -------------

function storedKinds() {
  try {
    return JSON.parse(localStorage.getItem(KIND_STORE) || "{}");
  } catch (e) {
    return {};
  }
}

(function applyStoredKinds() {
  const kinds = storedKinds();
  const heads = Array.from(grid.tHead.rows[0].querySelectorAll("th.lesson"));
  heads.forEach((th, c) => {
    const kind = kinds[`${groupId}/${subjectId}/${th.dataset.key}`];
    if (!kind) return;
    th.dataset.kind = kind;
    for (const row of matrix) if (row[c]) row[c].dataset.kind = kind;
  });
})();

// --- filters: period and «На дату» apply on change -----------------------------------------

const filters = document.getElementById("filters");
for (const id of ["period", "as-of"]) {
  const input = document.getElementById(id);
  if (input) input.addEventListener("change", () => filters.requestSubmit());
}

// --- the lesson form: «Добавить урок» adds a column, a column's header opens its lesson --------

const addButton = document.getElementById("add-lesson");
const lessonDialog = document.getElementById("lesson-dialog");
if (lessonDialog) {
  const form = document.getElementById("lesson-form");
  const lessonAlert = document.getElementById("lesson-alert");
  const lessonTitle = document.getElementById("lesson-title");
  const lessonHint = document.getElementById("lesson-hint");
  const dateInput = document.getElementById("lesson-date");
  const noInput = document.getElementById("lesson-no");
  const topicInput = document.getElementById("lesson-topic");
  const homeworkInput = document.getElementById("lesson-homework");
  const kindInput = document.getElementById("lesson-kind");
  let lessonKey = null;
  let lessonRequest = null;
  let target = null; // null: a new lesson; else the column header being opened
  let opened = null; // what the form was last filled for: typed values survive a reopen
  let opener = null;

  function dayMonth(iso) {
    const [y, m, d] = iso.split("-");
    return `${d}.${m}.${y}`;
  }

  function showHint(text) {
    lessonHint.textContent = text;
    lessonHint.hidden = !text;
  }

  function open(th, button) {
    const wanted = th ? th.dataset.key : "new";
    target = th;
    opener = button;
    lessonAlert.textContent = "";
    if (opened !== wanted) {
      form.reset();
      if (th) {
        dateInput.value = th.dataset.date;
        noInput.value = th.dataset.lessonNo || "";
        topicInput.value = th.dataset.topic || "";
        homeworkInput.value = th.dataset.homework || "";
        kindInput.value = th.dataset.kind || "oral";
      }
      opened = wanted;
    }
    dateInput.disabled = Boolean(th);
    noInput.disabled = Boolean(th && th.dataset.lessonNo);
    if (!th) {
      lessonTitle.textContent = "Новый урок";
      showHint("");
    } else if (th.dataset.lessonId) {
      lessonTitle.textContent = `Урок ${dayMonth(th.dataset.date)}, № ${th.dataset.lessonNo}`;
      showHint("Дата и номер записанного урока не меняются.");
    } else {
      lessonTitle.textContent =
        `Урок ${dayMonth(th.dataset.date)}` + (th.dataset.lessonNo ? `, № ${th.dataset.lessonNo}` : "");
      showHint("Отметки за этот день записаны без урока: «Сохранить» запишет урок с этой датой.");
    }
    lessonDialog.showModal();
    (th ? (noInput.disabled ? topicInput : noInput) : dateInput).focus();
  }

  if (addButton) addButton.addEventListener("click", () => open(null, addButton));
  grid.tHead.addEventListener("click", (event) => {
    const button = event.target.closest("button.lesson-open");
    if (button) open(button.closest("th.lesson"), button);
  });
  lessonDialog.addEventListener("close", () => {
    if (opener && document.contains(opener)) opener.focus();
  });

  function rememberKind(key, kind) {
    const kinds = storedKinds();
    kinds[`${groupId}/${subjectId}/${key}`] = kind;
    try {
      localStorage.setItem(KIND_STORE, JSON.stringify(kinds));
    } catch (e) {
      /* private mode: the default kind is used */
    }
  }

  function reloadAt(key, what) {
    const url = new URL(window.location.href);
    url.searchParams.set("focus", key);
    url.searchParams.set("lesson", what);
    window.location.assign(url.toString());
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const th = target;
    const topic = topicInput.value.trim();
    const homework = homeworkInput.value.trim();
    const kind = kindInput.value || "oral";
    const lessonDate = th ? th.dataset.date : dateInput.value;
    const lessonNo = Number(th && th.dataset.lessonNo ? th.dataset.lessonNo : noInput.value);
    let url;
    let body;
    if (th && th.dataset.lessonId) {
      if (topic === (th.dataset.topic || "").trim() && homework === (th.dataset.homework || "").trim()) {
        // Only the kind of work changed: it is the page's, not the lesson record's.
        rememberKind(th.dataset.key, kind);
        reloadAt(th.dataset.key, "changed");
        return;
      }
      url = `/api/v1/lessons/${encodeURIComponent(th.dataset.lessonId)}/changes`;
      body = { topic: topic || null, homework: homework || null };
    } else {
      if (!lessonDate) {
        lessonAlert.textContent = "Укажите дату урока";
        return;
      }
      if (!Number.isInteger(lessonNo) || lessonNo < 1) {
        lessonAlert.textContent = "Укажите номер урока";
        return;
      }
      url = "/api/v1/lessons";
      body = { group_id: groupId, subject_id: subjectId, lesson_date: lessonDate, lesson_no: lessonNo };
      if (topic) body.topic = topic;
      if (homework) body.homework = homework;
    }
    // The same save retried keeps its key; anything else typed is a new attempt.
    const text = JSON.stringify({ url, body });
    if (text !== lessonRequest) {
      lessonKey = crypto.randomUUID();
      lessonRequest = text;
    }
    const result = await call("POST", url, body, lessonKey);
    if (!result.ok) {
      lessonAlert.textContent = result.detail;
      return;
    }
    const key = th && th.dataset.lessonId ? th.dataset.key : `${lessonDate}/${lessonNo}`;
    rememberKind(key, kind);
    reloadAt(key, th && th.dataset.lessonId ? "changed" : "added");
  });
}

// After adding a lesson the page reloads with ?focus=DATE/NO: start in that column.
(function focusFromAddress() {
  const url = new URL(window.location.href);
  const wanted = url.searchParams.get("focus");
  if (!wanted) return;
  const what = url.searchParams.get("lesson");
  url.searchParams.delete("focus");
  url.searchParams.delete("lesson");
  history.replaceState(null, "", url.toString());
  const heads = Array.from(grid.tHead.rows[0].querySelectorAll("th.lesson"));
  const c = heads.findIndex((th) => th.dataset.key === wanted);
  if (c >= 0 && matrix.length) {
    focusCell(matrix[0][c]);
    say(`${what === "changed" ? "Урок сохранён" : "Урок добавлен"}: ${heads[c].textContent.trim()}`);
  }
})();

// Tests (and impatient people) can tell when the keyboard handlers are in place.
grid.dataset.ready = "true";
