// GOV.UK Frontend's behaviour (live word counts, error summary focus…), loaded as a module so
// the Content-Security-Policy needs no inline script beyond the template's own nonce'd one.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

initAll();
