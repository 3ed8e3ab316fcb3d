// Keeps the progress bars and statuses of unfinished jobs on the job admin pages current, by
// polling the jobs API (the staff session authenticates it) once a second while any is unfinished.
(function () {
  "use strict";
  var FINISHED = ["succeeded", "failed", "cancelled"];

  function unfinished() {
    var ids = [];
    document.querySelectorAll(".job-progress").forEach(function (el) {
      if (FINISHED.indexOf(el.dataset.jobStatus) === -1) ids.push(el.dataset.jobId);
    });
    return ids;
  }

  function show(job) {
    document.querySelectorAll('.job-progress[data-job-id="' + job.id + '"]').forEach(function (el) {
      el.dataset.jobStatus = job.status;
      el.querySelector("progress").value = job.progress;
      el.querySelector(".job-progress-text").textContent = job.progress + "% " + job.progress_message;
    });
    document.querySelectorAll('.job-status[data-job-id="' + job.id + '"]').forEach(function (el) {
      el.textContent = job.status;
    });
  }

  function poll() {
    var ids = unfinished();
    if (!ids.length) return;
    fetch("/api/v1/jobs/?limit=500&ids=" + ids.join(","), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (page) {
        if (page) page.results.forEach(show);
      })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, 1000); });
  }

  document.addEventListener("DOMContentLoaded", function () { window.setTimeout(poll, 1000); });
})();
