"""Querysets the portal pages share; every one starts from what the user's teams may see."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

from innominatus.accounts.access import team_filter
from workflows.models import Application, ResourceInstance, WorkflowExecution
from workflows.services import progress

PAGE_SIZE = 25
# Rows a paginated portal list counts exactly; beyond, it says "N+".
COUNT_CAP = 10_000


def visible_applications(user: Any) -> QuerySet[Application]:
    """Applications of the user's teams (all of them for platform admins)."""
    return Application.objects.filter(team_filter(user))


def visible_executions(user: Any) -> QuerySet[WorkflowExecution]:
    """Executions of the user's teams."""
    return WorkflowExecution.objects.filter(team_filter(user))


def visible_resources(user: Any) -> QuerySet[ResourceInstance]:
    """Resources of the user's teams' applications."""
    return ResourceInstance.objects.filter(team_filter(user, "application__team"))


def decorated(executions: QuerySet[WorkflowExecution]) -> QuerySet[WorkflowExecution]:
    """Executions without their large JSON columns, ready to be decorated page by page."""
    return executions.select_related("triggered_by").defer("definition", "variables", "outputs")


class CappedPaginator(Paginator):
    """A Paginator whose count stops at `cap` rows: paging through history never counts all of it.

    Up to the cap the count is exact; above it `capped` is true, the page shows "of N+" and the pages
    past the cap are not offered (filters narrow the list; the API pages the rest by cursor).
    """

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        plain = self.object_list.order_by().values("pk")  # type: ignore[attr-defined]
        return int(plain[: self.cap + 1].count())

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        return max(1, -(-min(self.count, self.cap) // self.per_page))


def paginate(
    request: HttpRequest, items: QuerySet[Any], *, per_page: int = PAGE_SIZE, capped: bool = False
) -> Page[Any]:
    """The requested page (`?page=`); out-of-range or malformed numbers fall back to the nearest page."""
    paginator_class = CappedPaginator if capped else Paginator
    return paginator_class(items, per_page).get_page(request.GET.get("page"))


def paginate_executions(request: HttpRequest, executions: QuerySet[WorkflowExecution]) -> Page[Any]:
    """A page of executions (count capped), its rows decorated with step progress."""
    page = paginate(request, decorated(executions), capped=True)
    page.object_list = progress.decorate(page.object_list, revisions=False)
    return page
