"""Application services: submissions, revision numbering under concurrency, plans, deletion and diffs."""

import threading
from typing import Any

import pytest
from django.db import connection

from innominatus.accounts.models import Team
from innominatus.problems import ProblemError
from tests.workflows.api.factories import HELLO, make_application, score
from workflows.models import Application, DeploymentRevision
from workflows.score import ScoreValidationError
from workflows.services import delete_application, diff_revisions, submit_spec


def submit(user: Any, text: str = HELLO, **kwargs: Any) -> Any:
    return submit_spec(text=text, content_type="application/yaml", user=user, **kwargs)


@pytest.mark.django_db
def test_first_submission_creates_application_and_revision(developer: Any) -> None:
    result = submit(developer, comment="  hello  ")
    assert result.created
    assert result.application.team.name == "team-a"
    assert result.application.created_by == developer
    assert result.application.current_revision == result.revision
    assert (result.revision.number, result.revision.comment) == (1, "hello")
    assert result.plan.exists is False
    assert result.plan.next_revision == 1
    assert submit(developer, score("hello", "nginx:2")).plan.exists is True


@pytest.mark.django_db
def test_invalid_document_raises_and_writes_nothing(developer: Any) -> None:
    with pytest.raises(ScoreValidationError) as raised:
        submit(developer, "apiVersion: nope\n")
    assert raised.value.problems
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_identical_resubmission_is_not_a_revision(developer: Any) -> None:
    submit(developer)
    result = submit(developer, comment="again")
    assert result.created is False
    assert result.revision.number == 1
    assert DeploymentRevision.objects.count() == 1


@pytest.mark.django_db
def test_numbers_continue_after_a_rollback(developer: Any) -> None:
    for image in ("nginx:1", "nginx:2", "nginx:3"):
        submit(developer, score("hello", image))
    application = Application.objects.get()
    application.current_revision = application.revisions.get(number=1)
    application.save()
    # Same content as the current (rolled back) revision: nothing new.
    assert submit(developer, score("hello", "nginx:1")).created is False
    # Same content as a later, non-current revision: a new revision, numbered after the highest.
    result = submit(developer, score("hello", "nginx:3"))
    assert result.created
    assert result.revision.number == 4


@pytest.mark.django_db
@pytest.mark.parametrize("dry_run", [False, True])
def test_user_without_team_is_refused_and_never_pooled(make_user: Any, dry_run: bool) -> None:
    with pytest.raises(ProblemError) as raised:
        submit(make_user("loner", team=None), dry_run=dry_run)
    assert raised.value.status_code == 403
    assert "you belong to no team; ask a platform admin" in str(raised.value.detail)
    assert raised.value.errors[0]["path"] == "team"
    assert not Team.objects.exists() and not Application.objects.exists()


@pytest.mark.django_db
def test_two_team_less_users_cannot_touch_each_others_applications(make_user: Any) -> None:
    first, second = make_user("first", team=None), make_user("second", team=None)
    for user in (first, second):
        with pytest.raises(ProblemError):
            submit(user)
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_user_in_two_teams_must_choose(developer: Any) -> None:
    Team.objects.create(name="team-b").members.add(developer)
    with pytest.raises(ProblemError) as raised:
        submit(developer)
    assert raised.value.status_code == 400
    assert raised.value.errors[0]["choices"] == ["team-a", "team-b"]
    assert "team-a, team-b" in str(raised.value.detail)
    assert submit(developer, team="team-b").application.team.name == "team-b"


@pytest.mark.django_db
def test_platform_admin_names_the_team_of_a_new_application(platform_admin: Any, make_user: Any) -> None:
    make_user("someone", team="team-b")
    with pytest.raises(ProblemError) as raised:
        submit(platform_admin)
    assert raised.value.status_code == 400
    assert raised.value.errors[0]["choices"] == ["team-b"]
    assert submit(platform_admin, team="team-b").application.team.name == "team-b"


@pytest.mark.django_db
def test_other_team_may_not_delete(developer: Any, make_user: Any) -> None:
    application = make_application(developer)
    with pytest.raises(ProblemError) as raised:
        delete_application(application=application, user=make_user("bob", team="team-b"))
    assert raised.value.status_code == 403
    delete_application(application=application, user=developer)
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_diff_reports_every_kind_of_change(developer: Any) -> None:
    submit(developer, HELLO + "  cache:\n    type: redis\n")
    changed = HELLO.replace("nginx:1.27", "nginx:1.28").replace(
        "      DB_HOST", "      DEBUG: 'true'\n      DB_HOST"
    )
    submit(developer, changed)
    old, new = DeploymentRevision.objects.order_by("number")
    result = diff_revisions(old, new)
    ops = {change["path"]: change["op"] for change in result["changes"]}
    assert ops == {
        "containers.main.image": "changed",
        "containers.main.variables.DEBUG": "added",
        "resources.cache": "removed",
    }
    assert result["unified"].startswith("--- hello@1\n+++ hello@2\n")
    assert diff_revisions(old, old) == {"unified": "", "changes": []}


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_never_collide_on_numbers(developer: Any) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            submit(developer, score("racy", f"nginx:{index}"))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    application = Application.objects.get(name="racy")
    numbers = sorted(application.revisions.values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert application.current_revision.number in numbers
