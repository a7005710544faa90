// The clock's speed control (POST /api/simulation/clock).

import { post } from "./api.js";
import { byId, errorText, formatNumber, showMessage } from "./dom.js";
import { onState, refreshState } from "./state-store.js";
import { clearFieldErrors, showFieldError } from "./fields.js";

export function startClock() {
  const form = byId("clock-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setSpeed(form);
  });
  for (const preset of form.querySelectorAll("[data-speed]")) {
    preset.addEventListener("click", () => {
      form.elements.speed.value = preset.dataset.speed;
      setSpeed(form);
    });
  }
  onState((state) => {
    byId("clock-current").textContent = `${formatNumber(state.speed, 2)}×`;
  });
}

async function setSpeed(form) {
  const message = byId("clock-message");
  clearFieldErrors(form);
  const raw = form.elements.speed.value.trim();
  const speed = raw === "" ? null : Number(raw);
  try {
    const clock = await post("/api/simulation/clock", { speed: Number.isNaN(speed) ? raw : speed });
    showMessage(message, "success", `The clock now runs at ${formatNumber(clock.speed, 2)}×.`);
    await refreshState().catch(() => {});
  } catch (error) {
    if (!showFieldError(form, error)) showMessage(message, "error", errorText(error), error.hint);
    else showMessage(message, "info", "");
  }
}
