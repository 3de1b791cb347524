/** The POST forms behind the dashboard's buttons, each carrying the CSRF token. */
import { type Html, html } from "./html.ts";

/** Options of actionForm(). */
export interface ActionFormOptions {
  /** The path the form posts to. */
  action: string;
  /** The button's text. */
  label: string;
  /** Hidden fields sent with the form. Default none. */
  fields?: Record<string, string | undefined>;
  /** Asked in a confirm dialog before sending. Default: sent at once. */
  confirm?: string;
  /** A visible text input (name and placeholder) sent with the form. Default none. */
  input?: { name: string; placeholder: string };
  /** Accessible name of the button when the label alone is ambiguous. Default: the label. */
  title?: string;
}

/** A small inline form with one button that posts `fields` and the CSRF token. */
export function actionForm(csrfToken: string, options: ActionFormOptions): Html {
  const hidden = Object.entries(options.fields ?? {})
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return html`
    <form class="inline" method="post" action="${options.action}"
      ${options.confirm && html`
        data-confirm="${options.confirm}"
      `}><input type="hidden" name="csrf" value="${csrfToken}">${hidden}${options.input &&
        html`
          <input type="text" name="${options.input.name}" placeholder="${options.input.placeholder}"
            maxlength="200">
        `}<button type="submit" title="${options.title ?? options.label}">${options
        .label}</button></form>
  `;
}
