// The study page: log in, create a session, upload documents and watch them being processed,
// read the analysis and the lesson, take a quiz. Everything goes through the tutor's REST API
// with the learner's Bearer token, kept in this tab's sessionStorage.
(function () {
  "use strict";

  const API = "/api/v1";
  const TOKEN_KEY = "tutor:token";
  const SESSION_KEY = "tutor:session";
  const POLL_MS = 700;

  const state = {
    loggedIn: false,
    session: null,
    documents: [],
    analysis: null,
    lesson: null,
    quiz: null,
    result: null,
    summary: null,
    engagement: null,
    quizStartedAt: 0,
    errors: [],
  };

  const $ = (id) => document.getElementById(id);

  function say(text, isError) {
    const note = $("status");
    note.textContent = text || "";
    note.classList.toggle("error", Boolean(isError));
    if (isError) state.errors.push(text);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  class ApiError extends Error {
    constructor(status, body) {
      const error = (body && body.error) || {};
      super(error.message || `The server answered ${status}.`);
      this.status = status;
      this.code = error.code || "";
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method, headers };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(API + path, init);
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (response.status === 401 && path !== "/auth/token/") {
      logout();
      throw new ApiError(401, { error: { message: "Your login has expired; log in again." } });
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  // Runs an action with its button disabled, showing the server's message when it fails.
  async function busy(button, action) {
    button.disabled = true;
    try {
      return await action();
    } catch (error) {
      say(error.message, true);
      return null;
    } finally {
      button.disabled = false;
    }
  }

  function results(page) {
    return Array.isArray(page) ? page : (page && page.results) || [];
  }

  // --- logging in -----------------------------------------------------------------------------

  function showLoggedIn() {
    state.loggedIn = Boolean(sessionStorage.getItem(TOKEN_KEY));
    $("login-form").hidden = state.loggedIn;
    $("logged-in").hidden = !state.loggedIn;
    $("session-section").hidden = !state.loggedIn;
  }

  function logout() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(SESSION_KEY);
    state.session = null;
    for (const id of ["documents-section", "analysis-section", "lesson-section", "quiz-section", "summary-section", "engagement-section"]) {
      $(id).hidden = true;
    }
    showLoggedIn();
  }

  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    busy(form.querySelector("button"), async () => {
      const data = await api("POST", "/auth/token/", {
        username: form.username.value,
        password: form.password.value,
      });
      sessionStorage.setItem(TOKEN_KEY, data.token);
      form.password.value = "";
      say("Logged in.");
      showLoggedIn();
    });
  });

  $("logout").addEventListener("click", () => {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) api("POST", "/auth/token/revoke/").catch(() => {});
    logout();
    say("Logged out.");
  });

  // --- the session ----------------------------------------------------------------------------

  function showSession(session) {
    state.session = session;
    sessionStorage.setItem(SESSION_KEY, String(session.id));
    $("session-current").hidden = false;
    $("session-current").textContent = `Session "${session.title}" (#${session.id})`;
    for (const id of ["documents-section", "analysis-section", "lesson-section", "quiz-section", "summary-section", "engagement-section"]) {
      $(id).hidden = false;
    }
  }

  $("session-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    busy(form.querySelector("button"), async () => {
      const session = await api("POST", "/tutor/sessions/", { title: form.title.value, goal: form.goal.value });
      showSession(session);
      state.documents = [];
      renderDocuments();
      say("Session created: upload a document.");
    });
  });

  const sessionPath = (rest) => `/tutor/sessions/${state.session.id}/${rest}`;

  // --- documents ------------------------------------------------------------------------------

  function renderDocuments() {
    const list = $("documents");
    list.replaceChildren();
    for (const doc of state.documents) {
      const bar = el("progress", { max: "100", value: String(doc.progress || 0) });
      const embedded = doc.chunks ? `, ${doc.chunks_embedded || 0} of ${doc.chunks} passages embedded` : "";
      const detail = doc.status === "failed" ? `failed: ${doc.error_message || doc.error_code}` : doc.status;
      list.append(
        el("li", { "data-status": doc.status }, `${doc.filename} `, bar, ` ${doc.progress || 0}% (${detail}${embedded})`)
      );
    }
  }

  function documentsSettled() {
    return state.documents.every(
      (doc) => doc.status === "failed" || (doc.status === "ready" && (!doc.chunks || doc.chunks_embedded + (doc.chunks_failed || 0) >= doc.chunks))
    );
  }

  async function watchDocuments() {
    for (;;) {
      state.documents = results(await api("GET", sessionPath("documents/")));
      renderDocuments();
      if (documentsSettled()) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  $("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    busy(form.querySelector("button"), async () => {
      const body = new FormData();
      for (const file of form.files.files) body.append("files", file);
      const uploaded = await api("POST", sessionPath("documents/"), body);
      say(uploaded.some((doc) => doc.duplicate) ? "This document is already in the session." : "Uploaded; processing…");
      form.reset();
      await watchDocuments();
      const failed = state.documents.filter((doc) => doc.status === "failed");
      say(failed.length ? `${failed.length} document(s) could not be read.` : "Ready: analyse the documents.", failed.length > 0);
    });
  });

  // --- analysis and lesson --------------------------------------------------------------------

  function renderAnalysis(analysis) {
    const concepts = el("dl", { class: "concepts" });
    for (const concept of analysis.concepts || []) {
      concepts.append(el("dt", { text: concept.term }), el("dd", { text: concept.definition }));
      if (concept.quote) concepts.append(el("dd", { class: "quote", text: `“${concept.quote}”` }));
    }
    $("analysis").replaceChildren(el("p", { class: "summary", text: analysis.summary || "" }), concepts);
  }

  $("analyse").addEventListener("click", (event) => {
    busy(event.target, async () => {
      state.analysis = await api("POST", sessionPath("analysis/"), {});
      renderAnalysis(state.analysis);
      say("Analysis ready.");
    });
  });

  function renderLesson(lesson) {
    const parts = [];
    if (lesson.title) parts.push(el("h3", { text: lesson.title }));
    for (const section of lesson.sections || []) {
      const block = el("article", { class: "lesson-section" });
      if (section.title) block.append(el("h4", { text: section.title }));
      const objectives = el("ul", { class: "objectives" });
      for (const objective of section.objectives || []) objectives.append(el("li", { text: objective }));
      block.append(objectives, el("p", { text: section.explanation || "" }));
      for (const example of section.examples || []) block.append(el("p", { class: "quote", text: example }));
      parts.push(block);
    }
    $("lesson").replaceChildren(...parts);
  }

  $("make-lesson").addEventListener("click", (event) => {
    busy(event.target, async () => {
      state.lesson = await api("POST", sessionPath("lesson/"), {});
      renderLesson(state.lesson);
      say("Lesson ready.");
    });
  });

  // --- quiz -----------------------------------------------------------------------------------

  function questionInput(question) {
    const name = `q${question.id}`;
    if (question.type === "multiple_choice" || question.type === "true_false") {
      const choices = question.type === "true_false" ? ["true", "false"] : question.options || [];
      const options = el("div", { class: "options" });
      for (const choice of choices) {
        const input = el("input", { type: "radio", name, value: choice });
        options.append(el("label", {}, input, ` ${choice}`));
      }
      return options;
    }
    return el("input", { name, "aria-label": `Answer ${question.position}`, autocomplete: "off" });
  }

  function renderQuiz(quiz) {
    const list = $("questions");
    list.replaceChildren();
    for (const question of quiz.questions || []) {
      list.append(el("li", { "data-question": String(question.id) }, el("p", { text: question.prompt }), questionInput(question)));
    }
    $("quiz-form").hidden = false;
    $("result").hidden = true;
    say(quiz.message ? `Quiz ready. ${quiz.message}` : "Quiz ready.");
    state.quizStartedAt = performance.now();
  }

  $("quiz-request").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    busy(form.querySelector("button"), async () => {
      state.quiz = await api("POST", sessionPath("quiz/"), {
        num_questions: Number(form.num_questions.value),
        difficulty: form.difficulty.value,
      });
      state.result = null;
      renderQuiz(state.quiz);
    });
  });

  function givenAnswer(question) {
    const form = $("quiz-form");
    const field = form.elements[`q${question.id}`];
    if (!field) return "";
    return (field.value || "").trim();
  }

  function renderResult(attempt) {
    const box = $("result");
    const percent = Math.round(attempt.score * 100);
    const rows = el("ol", { class: "answers" });
    for (const answer of attempt.answers) {
      rows.append(
        el(
          "li",
          { class: answer.correct ? "correct" : "wrong" },
          el("strong", { text: answer.correct ? "Correct. " : `Not quite: the answer is "${answer.answer}". ` }),
          el("span", { class: "explanation", text: answer.explanation || "" })
        )
      );
    }
    box.replaceChildren(el("p", { class: "score", text: `Score: ${attempt.correct} of ${attempt.total} (${percent}%)` }), rows);
    box.hidden = false;
  }

  $("quiz-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy(event.target.querySelector("button"), async () => {
      const answers = state.quiz.questions.map((question) => ({ question: question.id, given: givenAnswer(question) }));
      const seconds = Math.max(0, (performance.now() - state.quizStartedAt) / 1000);
      state.result = await api("POST", sessionPath("events/quiz-attempts/"), {
        quiz: state.quiz.id,
        answers,
        time_taken_s: Math.round(seconds * 10) / 10,
      });
      renderResult(state.result);
      say("Answers scored.");
    });
  });

  // --- summary and engagement ---------------------------------------------------------------

  function termList(title, terms, className) {
    return el("p", { class: className }, el("strong", { text: `${title}: ` }), terms.length ? terms.join(", ") : "none");
  }

  $("summary-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    busy(form.querySelector("button"), async () => {
      state.summary = await api("POST", sessionPath("events/summaries/"), { text: form.text.value });
      const box = $("coverage");
      box.replaceChildren(
        termList("Covered", state.summary.covered, "covered"),
        termList("Missed (the next lesson and quiz lean on these)", state.summary.missed, "missed")
      );
      box.hidden = false;
      say("Summary checked.");
    });
  });

  $("engagement-refresh").addEventListener("click", (event) => {
    busy(event.target, async () => {
      const analytics = await api("POST", sessionPath("analytics/refresh/"));
      state.engagement = analytics.engagement;
      const rows = el("tbody");
      for (const part of state.engagement.contributions) {
        rows.append(
          el("tr", { "data-signal": part.signal }, el("td", { text: part.label }), el("td", { text: part.measured }),
            el("td", { text: `${part.points} points` }))
        );
      }
      const table = el("table", { class: "contributions" },
        el("thead", {}, el("tr", {}, el("th", { text: "Signal" }), el("th", { text: "Measured" }), el("th", { text: "Points" }))),
        rows);
      const box = $("engagement");
      box.replaceChildren(el("p", { class: "score", text: `Engagement: ${state.engagement.score} of 100` }), table);
      box.hidden = false;
    });
  });

  // --- start ----------------------------------------------------------------------------------

  showLoggedIn();
  window.__tutorPage = {
    state: () => JSON.parse(JSON.stringify(state)),
  };
})();
