// Overlap Clip's page: upload the rasters, run the job through OGC API - Processes, watch it, show what it made.
// Plain JavaScript, no build step and no library.
"use strict";

const TEXTS = {
  en: {
    "title": "Overlap Clip",
    "intro": "Clip two or more rasters to the area they have in common, on one grid.",
    "api": "OGC API – Processes",
    "drop": "Drop two rasters here (or more, for a stack), or choose them.",
    "grid": "Output grid",
    "grid-a": "The first raster's grid (A)",
    "grid-b": "The second raster's grid (B)",
    "grid-own": "Each raster keeps its own grid",
    "grid-reference": "Raster {n}'s grid",
    "area": "Common area",
    "area-extents": "Common footprint",
    "area-valid": "Where every raster holds valid data",
    "mask": "Set pixels invalid in any raster to nodata in every output",
    "shift": "Check the shift between the dates",
    "run": "Clip to the common area",
    "uploading": "Uploading {name}…",
    "queued": "Waiting for a free slot…",
    "running": "Clipping…",
    "done": "Done.",
    "failed": "The job failed.",
    "choose-two": "Choose two rasters or more.",
    "side-by-side": "Inputs and outputs, on one stretch",
    "compare": "Compare the dates",
    "swipe": "Swipe",
    "blink": "Blink",
    "compare-under": "Below",
    "compare-over": "Above",
    "numbers": "The overlap",
    "downloads": "Downloads",
    "input": "Input {name}",
    "output": "Output {name}",
    "size": "Size",
    "size-value": "{width} × {height} pixels",
    "overlap-area": "Area",
    "share": "Share of {name}",
    "shift-of": "Shift of {name}",
    "shift-value": "{dx} px east, {dy} px north ({m} m)",
    "shift-none": "none measured: {reason}",
    "all": "Everything (zip)",
    "overlap-file": "The overlap (GeoJSON)"
  },
  "zh-CN": {
    "title": "重叠裁剪",
    "intro": "将两幅或多幅栅格裁剪到它们的公共区域，并统一到同一格网。",
    "api": "OGC API – Processes 接口",
    "drop": "将两幅栅格拖放到此处（叠加多幅亦可），或点击选择文件。",
    "grid": "输出格网",
    "grid-a": "第一幅栅格的格网（A）",
    "grid-b": "第二幅栅格的格网（B）",
    "grid-own": "各栅格保留自身格网",
    "grid-reference": "第 {n} 幅栅格的格网",
    "area": "公共区域",
    "area-extents": "公共覆盖范围",
    "area-valid": "所有栅格均有有效数据的区域",
    "mask": "任一栅格无效的像元在所有输出中设为无数据",
    "shift": "检查两期影像之间的偏移",
    "run": "裁剪到公共区域",
    "uploading": "正在上传 {name}…",
    "queued": "正在排队等待空闲槽位…",
    "running": "正在裁剪…",
    "done": "完成。",
    "failed": "任务失败。",
    "choose-two": "请选择两幅或更多栅格。",
    "side-by-side": "输入与输出（统一拉伸）",
    "compare": "对比两期影像",
    "swipe": "卷帘",
    "blink": "闪烁",
    "compare-under": "下层",
    "compare-over": "上层",
    "numbers": "重叠区域",
    "downloads": "下载",
    "input": "输入 {name}",
    "output": "输出 {name}",
    "size": "尺寸",
    "size-value": "{width} × {height} 像元",
    "overlap-area": "面积",
    "share": "占 {name} 的比例",
    "shift-of": "{name} 的偏移",
    "shift-value": "向东 {dx} 像元，向北 {dy} 像元（{m} 米）",
    "shift-none": "未能测得：{reason}",
    "all": "全部文件（zip）",
    "overlap-file": "重叠区域（GeoJSON）"
  }
};

// The browser's first language that the page speaks: Simplified Chinese for any zh but Traditional ones.
const LANGUAGE = (navigator.languages || [navigator.language]).map((tag) => tag.toLowerCase()).reduce(
  (found, tag) => found || (tag.startsWith("zh") && !/^zh-(tw|hk|mo|hant)/.test(tag) ? "zh-CN" : tag.startsWith("en") ? "en" : null),
  null
) || "en";

function t(key, fields = {}) {
  const text = TEXTS[LANGUAGE][key] || TEXTS.en[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(fields[name]));
}

const $ = (selector) => document.querySelector(selector);
let files = [];

function translate() {
  document.documentElement.lang = LANGUAGE;
  for (const element of document.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
}

function choose(list) {
  files = Array.from(list);
  $("#chosen").replaceChildren(...files.map((file) => Object.assign(document.createElement("li"), { textContent: file.name })));
  const options = files.length > 2
    ? files.map((_, index) => [String(index + 1), t("grid-reference", { n: index + 1 })])
    : [["a", t("grid-a")], ["b", t("grid-b")], ["own", t("grid-own")]];
  $("#grid").replaceChildren(...options.map(([value, text]) => Object.assign(document.createElement("option"), { value, textContent: text })));
  $("#run").disabled = files.length < 2;
  say(files.length === 1 ? t("choose-two") : "");
}

function say(error) {
  $("#error").hidden = !error;
  $("#error").textContent = error;
}

function status(percent, message) {
  $("#status").hidden = false;
  $("#progress").value = percent;
  $("#message").textContent = message;
}

// The sentence of a refusal: the service's own, without pygeoapi's prefix.
async function refusal(response) {
  try {
    const body = await response.json();
    return (body.description || body.message || "").replace(/^(\w+: )?Error executing process: /, "");
  } catch (error) {
    return `${response.status} ${response.statusText}`;
  }
}

async function upload(file) {
  status(0, t("uploading", { name: file.name }));
  const response = await fetch("uploads", { method: "POST", body: file, headers: { "X-Filename": encodeURIComponent(file.name) } });
  if (response.status !== 201) throw new Error(await refusal(response));
  return { href: (await response.json()).href };
}

async function run(event) {
  event.preventDefault();
  say("");
  $("#results").hidden = true;
  $("#run").disabled = true;
  try {
    const rasters = [];
    for (const file of files) rasters.push(await upload(file));
    const options = { area: $("#area").value, mask: $("#mask").checked, shift: $("#shift").checked };
    const pair = rasters.length === 2;
    const inputs = pair
      ? { a: rasters[0], b: rasters[1], grid: $("#grid").value, ...options }
      : { rasters, reference: Number($("#grid").value), ...options };
    const response = await fetch(`api/processes/${pair ? "overlap-clip" : "overlap-stack"}/execution`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Prefer": "respond-async" },
      body: JSON.stringify({ inputs, response: "raw" })
    });
    if (response.status !== 201) throw new Error(await refusal(response));
    // The job's path only: the page asks the service it came from, whatever name that has here.
    const job = new URL(response.headers.get("Location")).pathname.replace(/^\//, "");
    status(0, t("queued"));
    for (;;) {
      const state = await (await fetch(`${job}?f=json`)).json();
      if (state.status === "successful") break;
      if (state.status === "failed") throw new Error(state.message.replace(/^(\w+: )?Error executing process: /, "") || t("failed"));
      status(state.progress || 0, state.status === "accepted" ? t("queued") : t("running"));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    status(100, t("done"));
    show(await (await fetch(`${job}/results?f=json`)).json(), pair);
  } catch (error) {
    say(error.message);
  } finally {
    $("#run").disabled = files.length < 2;
  }
}

function figure(preview, caption) {
  const frame = document.createElement("div");
  frame.className = "frame";
  const image = Object.assign(document.createElement("img"), { src: preview.href, alt: caption });
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 1 1");
  svg.setAttribute("preserveAspectRatio", "none");
  for (const ring of preview.outline || []) {
    const polygon = document.createElementNS("http://www.w3.org/2000/svg", "polygon");
    polygon.setAttribute("points", ring.map(([x, y]) => `${x},${y}`).join(" "));
    svg.append(polygon);
  }
  frame.append(image, svg);
  const element = document.createElement("figure");
  element.dataset.name = preview.name;
  element.append(frame, Object.assign(document.createElement("figcaption"), { textContent: caption }));
  return element;
}

function row(label, value) {
  const line = document.createElement("tr");
  line.append(Object.assign(document.createElement("th"), { textContent: label }), Object.assign(document.createElement("td"), { textContent: value }));
  return line;
}

function link(href, text) {
  const item = document.createElement("li");
  item.append(Object.assign(document.createElement("a"), { href, textContent: text, download: "" }));
  return item;
}

function show(result, pair) {
  const names = result.outputs.map((output) => output.name);
  $("#previews").replaceChildren(...result.previews.map((preview) => figure(
    preview,
    preview.name.startsWith("input_") ? t("input", { name: preview.name.slice(6) }) : t("output", { name: preview.name })
  )));
  const outputs = result.previews.filter((preview) => !preview.name.startsWith("input_"));
  // A stack: any two of its outputs, chosen below and above (the first two unless changed).
  for (const [index, id] of [[0, "#under-choice"], [1, "#over-choice"]]) {
    $(id).replaceChildren(...outputs.map((preview) => Object.assign(document.createElement("option"), { value: preview.href, textContent: preview.name })));
    $(id).selectedIndex = index;
  }
  $("#choose-dates").hidden = outputs.length < 3;
  compared();
  const rows = [];
  if (result.overlap) {
    rows.push(row(t("size"), t("size-value", { width: result.overlap.width, height: result.overlap.height })));
    if (result.overlap.area_km2 !== null) rows.push(row(t("overlap-area"), `${result.overlap.area_km2.toPrecision(6)} km²`));
    result.overlap.percents.forEach((percent, index) => {
      if (percent !== null) rows.push(row(t("share", { name: names[index] }), `${percent.toFixed(2)} %`));
    });
  }
  (result.shift || []).forEach((shift, index) => {
    if (shift === null) return;
    rows.push(row(t("shift-of", { name: names[index] }), shift.reliable
      ? t("shift-value", { dx: shift.dx_px.toFixed(2), dy: shift.dy_px.toFixed(2), m: shift.shift_m === null ? "?" : shift.shift_m.toFixed(1) })
      : t("shift-none", { reason: shift.reason })));
  });
  $("#numbers tbody").replaceChildren(...rows);
  $("#warnings").replaceChildren(...(result.warnings || []).map((text) => Object.assign(document.createElement("li"), { textContent: text })));
  const downloads = result.outputs.map((output) => link(output.href, `${output.name}.tif`));
  if (result.overlap) downloads.push(link(result.overlap.href, t("overlap-file")));
  downloads.push(link(result.archive.href, t("all")));
  $("#downloads").replaceChildren(...downloads);
  $("#compare").hidden = !pair && outputs.length < 2;
  $("#results").hidden = false;
}

function compared() {
  $("#under").src = $("#under-choice").value;
  $("#over").src = $("#over-choice").value;
  swipe();
}

function swipe() {
  $("#over").style.clipPath = `inset(0 ${100 - Number($("#swipe").value)}% 0 0)`;
  $("#over").style.visibility = "visible";
}

function blink() {
  const over = $("#over");
  over.style.clipPath = "none";
  over.style.visibility = over.style.visibility === "hidden" ? "visible" : "hidden";
}

document.addEventListener("DOMContentLoaded", () => {
  translate();
  choose([]);
  $("#files").addEventListener("change", (event) => choose(event.target.files));
  const drop = $("#drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => { event.preventDefault(); drop.classList.remove("over"); choose(event.dataTransfer.files); });
  $("#job").addEventListener("submit", run);
  $("#swipe").addEventListener("input", swipe);
  $("#blink").addEventListener("click", blink);
  $("#under-choice").addEventListener("change", compared);
  $("#over-choice").addEventListener("change", compared);
});
