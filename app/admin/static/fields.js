// API errors shown at the form control they name. The API's 400 names the field in its
// message ("field 'expectedImpact.duration': ..."); ApiError.field holds that path, and each
// control carries the path it feeds in `data-field`.

import { el } from "./dom.js";

/** Remove every field error of a form. */
export function clearFieldErrors(form) {
  for (const node of form.querySelectorAll(".field-error")) node.remove();
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
    const described = (control.getAttribute("aria-describedby") || "")
      .split(" ")
      .filter((id) => id && !id.endsWith("-error"));
    if (described.length) control.setAttribute("aria-describedby", described.join(" "));
    else control.removeAttribute("aria-describedby");
  }
}

/** The control for an API field path, trying shorter paths ("a.b.0.c", then "a.b.0"...). */
function controlFor(form, path) {
  const parts = path.split(".");
  while (parts.length) {
    const control = form.querySelector(`[data-field="${CSS.escape(parts.join("."))}"]`);
    if (control) return control;
    parts.pop();
  }
  return null;
}

/** Show an ApiError next to the control it names; false when it names none of this form's. */
export function showFieldError(form, error) {
  if (!error.field) return false;
  const control = controlFor(form, error.field);
  if (!control) return false;
  const id = `${control.id || control.dataset.field.replaceAll(".", "-")}-error`;
  const text = error.message.replace(/^(?:field|parameter) '[^']+':\s*/, "");
  const message = el(
    "p",
    { class: "field-error", id, role: "alert" },
    text,
    error.hint ? el("span", { class: "hint" }, ` ${error.hint}`) : null,
  );
  const wrapper = control.closest(".field") || control.parentElement;
  wrapper.append(message);
  control.setAttribute("aria-invalid", "true");
  const described = control.getAttribute("aria-describedby");
  control.setAttribute("aria-describedby", described ? `${described} ${id}` : id);
  control.focus();
  return true;
}
