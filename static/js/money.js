// Numbers for people in the page's language (<html lang>), mirroring apps/core/formatting.py:
// amounts of 0.10 or more get two decimals, smaller non-zero ones two significant digits (a call's
// cost never reads as zero), exact zero reads "0"; Swedish: decimal comma, U+00A0 between
// thousands, "$0,000031", "4 033,50 kr"; English: "$0.000031", "4,033.50 kr"; no value reads "—".
// Pass amounts as the server's decimal strings where possible: Intl formats those exactly.
(function () {
  "use strict";
  const NBSP = "\u00a0";
  const NO_VALUE = "—";

  function language() {
    const lang = (document.documentElement.lang || "sv").toLowerCase().split("-")[0];
    return lang === "sv" ? "sv" : "en";
  }

  // Intl's Swedish grouping is U+00A0 already; normalise in case an engine uses U+202F.
  function clean(text) {
    return text.replace(/[\u202f\u2009 ]/g, NBSP);
  }

  function isMissing(value) {
    return value === null || value === undefined || value === "" || !isFinite(Number(value));
  }

  function absolute(value) {
    const text = String(value).trim();
    return text.startsWith("-") ? text.slice(1) : text;
  }

  function amount(value) {
    if (isMissing(value)) return NO_VALUE;
    const number = Number(value);
    if (number === 0) return "0";
    const size = Math.abs(number) < 0.1 ? { minimumSignificantDigits: 2, maximumSignificantDigits: 2 }
      : { minimumFractionDigits: 2, maximumFractionDigits: 2 };
    // The sign is written by hand: Swedish Intl uses U+2212, the server writes "-".
    let text = clean(new Intl.NumberFormat(language(), size).format(absolute(value)));
    // 0.0999 rounds to 0.10: written with the two decimals of a normal amount, like the server.
    if (/^0[.,]1$/.test(text)) text += "0";
    return (number < 0 ? "-" : "") + text;
  }

  function usd(value) {
    const text = amount(value);
    if (text === NO_VALUE) return text;
    return text.startsWith("-") ? "-$" + text.slice(1) : "$" + text;
  }

  function sek(value) {
    const text = amount(value);
    return text === NO_VALUE ? text : text + NBSP + "kr";
  }

  function tokens(value) {
    if (isMissing(value)) return NO_VALUE;
    const number = Math.round(Number(value));
    const text = clean(new Intl.NumberFormat(language(), { maximumFractionDigits: 0 }).format(Math.abs(number)));
    return (number < 0 ? "-" : "") + text;
  }

  function percent(ratio) {
    if (isMissing(ratio)) return NO_VALUE;
    const value = Number(ratio) * 100;
    const text = clean(
      new Intl.NumberFormat(language(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(Math.abs(value)),
    );
    return (value < 0 ? "-" : "") + text + (language() === "sv" ? NBSP + "%" : "%");
  }

  window.Money = { usd: usd, sek: sek, tokens: tokens, percent: percent };
})();
