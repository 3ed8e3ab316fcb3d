from django.urls import path

from chatplatform.jobs import api

urlpatterns = [
    path("jobs/", api.JobListCreateApi.as_view(), name="jobs"),
    path("jobs/kinds/", api.JobKindListApi.as_view(), name="job-kinds"),
    path("jobs/<int:job_id>/", api.JobDetailApi.as_view(), name="job"),
    path("jobs/<int:job_id>/cancel/", api.JobCancelApi.as_view(), name="job-cancel"),
    path("jobs/<int:job_id>/retry/", api.JobRetryApi.as_view(), name="job-retry"),
]
