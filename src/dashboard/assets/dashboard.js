// The dashboard's only script: asks before forms marked data-confirm are sent, sends the form of
// a select marked data-autosubmit when it changes, and reloads the page's <main> every few
// seconds while the tab is visible and no form is being filled in.
(() => {
  const REFRESH_MS = 8000;

  document.addEventListener("submit", (event) => {
    const question = event.target.getAttribute("data-confirm");
    if (question && !confirm(question)) event.preventDefault();
  });

  document.addEventListener("change", (event) => {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
  });

  // An action's notice is shown once; later reloads fetch the page without it.
  const url = new URL(location.href);
  if (url.searchParams.has("done")) {
    for (const name of ["done", "n"]) url.searchParams.delete(name);
    history.replaceState(null, "", url.pathname + url.search);
  }

  async function refresh() {
    if (document.hidden || document.activeElement?.closest("form")) return;
    const response = await fetch(location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const next = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = next.querySelector("main");
    const current = document.querySelector("main");
    if (fresh && current) current.replaceWith(fresh);
  }

  setInterval(() => refresh().catch(() => {}), REFRESH_MS);
})();
