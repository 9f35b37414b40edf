// GOV.UK Frontend's behaviour (live word counts, error summary focus…), loaded as a module so
// the Content-Security-Policy needs no inline script beyond the template's own nonce'd one.
// The page's link to this file names govuk-frontend's version (`govuk`): it is imported at
// that version, so a deploy with a newer govuk-frontend never runs a copy the browser kept.
const version = new URL(import.meta.url).searchParams.get("govuk");
const govuk = new URL("../govuk/govuk-frontend.min.js", import.meta.url);
if (version) govuk.searchParams.set("v", version);
const { initAll } = await import(govuk.href);

initAll();
