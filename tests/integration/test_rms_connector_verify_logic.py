"""ems.enable.rms_connector / rms_connector_client verify (issue 19, finding 17): the bounded wait for the
connector's authorization download and Test-IRMConfiguration on Exchange.

The verdicts (tasks/verify_connector_checks.yml, tasks/verify_irm_checks.yml) run as Ansible runs them, on
localhost, fed with what ansible.windows.win_uri and ems.enable.exchange_irm_configuration return. The tasks
that talk to Windows are checked for their retry bounds and read-only parameters.
"""

from __future__ import annotations

import pytest
import yaml

from connector_play import ROOT, run_role_tasks

pytestmark = pytest.mark.integration

CONNECTOR = "rmsconnector.contoso.example"
URL = f"https://{CONNECTOR}/_wmcs/certification/servercertification.asmx"
PAGE = "<html><body>ServerCertificationWebService</body></html>"
# Microsoft, Monitor the RMS connector: the list of authorized accounts "is downloaded every 15 minutes".
AUTHORIZATION_DOWNLOAD_SECONDS = 15 * 60


def client_check(tmp_path, kind, answer, **extra):
    role_vars = {"rms_connector_client_kind": kind, "rms_connector_client_connector_name": CONNECTOR}
    role_vars.update(extra)
    return run_role_tasks(tmp_path, "rms_connector_client", "verify_connector_checks", role_vars,
                          {"__rms_connector_client_verify": answer})[0]


def failure_line(proc):
    lines = [line for line in proc.stdout.splitlines() if '"msg":' in line]
    assert len(lines) == 1, proc.stdout
    assert "\\n" not in lines[0], lines[0]  # one line: no newline inside the message either
    return lines[0]


@pytest.mark.parametrize("kind,answer", [
    ("exchange_2019", {"status_code": 200, "content": PAGE, "attempts": 3}),
    ("fci", {"status_code": 200, "content": PAGE, "attempts": 1}),
    ("sharepoint", {"status_code": 401, "content": "", "attempts": 1}),
    ("sharepoint", {"status_code": 200, "content": PAGE, "attempts": 1}),
])
def test_an_expected_answer_passes(tmp_path, kind, answer):
    proc = client_check(tmp_path, kind, answer)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("kind,answer,texts", [
    ("exchange_2016", {"status_code": 401, "content": "", "attempts": 17},
     ["localhost (exchange_2016): " + URL + " answered HTTP 401", "after 17 attempt(s) over about 16 min",
      "expected 200", "every 15 minutes", "authorize the Exchange Servers group", "Warning 2001"]),
    ("fci", {"status_code": 200, "content": "<html>IIS</html>", "attempts": 17},
     ["answered HTTP 200 without the ServerCertificationWebService page", "this server's computer account"]),
    ("sharepoint", {"status_code": 500, "content": "", "attempts": 17}, ["answered HTTP 500", "expected 200 or 401 or 403"]),
    ("exchange_2019", {"failed": True, "msg": "Unable to connect to the remote server", "attempts": 17},
     ["answered nothing (Unable to connect to the remote server)"]),
])
def test_no_expected_answer_fails_in_one_line(tmp_path, kind, answer, texts):
    proc = client_check(tmp_path, kind, answer)
    assert proc.returncode != 0
    line = failure_line(proc)
    for text in texts:
        assert text in line, line


def test_the_wait_in_the_message_follows_the_settings(tmp_path):
    proc = client_check(tmp_path, "exchange_2019", {"status_code": 401, "attempts": 5},
                        rms_connector_client_verify_retries=4, rms_connector_client_verify_delay=300)
    assert "after 5 attempt(s) over about 20 min" in failure_line(proc)


# ---- the retry bounds of the requests ---------------------------------------------------------------

def _task(role, name_part):
    tasks = yaml.safe_load((ROOT / "roles" / role / "tasks" / "verify.yml").read_text())
    flat = []
    for task in tasks:
        flat.append(task)
        flat.extend(task.get("block", []))
    return [t for t in flat if name_part in t.get("name", "")]


@pytest.mark.parametrize("role,name_part,prefix", [
    ("rms_connector_client", "request servercertification.asmx", "rms_connector_client"),
    ("rms_connector", "certification web service on this server", "rms_connector"),
    ("rms_connector", "certification web service through the load-balanced name", "rms_connector"),
])
def test_each_request_waits_bounded_for_the_authorization_download(role, name_part, prefix):
    (task,) = _task(role, name_part)
    assert "ansible.windows.win_uri" in task  # read-only: a GET
    assert task["until"] and task["retries"] == "{{ %s_verify_retries }}" % prefix
    assert task["delay"] == "{{ %s_verify_delay }}" % prefix
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())
    wait = defaults[f"{prefix}_verify_retries"] * defaults[f"{prefix}_verify_delay"]
    assert AUTHORIZATION_DOWNLOAD_SECONDS <= wait <= AUTHORIZATION_DOWNLOAD_SECONDS + 120
    # until and failed_when say the same thing: no retry on an answer that passes, no pass on one that is retried
    failed_when = " ".join(str(task["failed_when"]).split())
    until = " ".join(str(task["until"]).split())
    assert failed_when in (f"not ({until})", until.replace("== 200", "!= 200").replace(" and '", " or '")
                           .replace("' in (", "' not in ("))


# ---- Test-IRMConfiguration ----------------------------------------------------------------------------

PASS_TEXT = ("Loading IRM configuration ...\n - PASS: IRM configuration loaded successfully.\n"
             "Retrieving RMS Certification Uri ...\n - PASS: RMS Certification Uri: https://rmsconnector/_wmcs/certification\n"
             "OVERALL RESULT: PASS")
FAIL_TEXT = ("Loading IRM configuration ...\n - PASS: IRM configuration loaded successfully.\n"
             "Acquiring Rights Account Certificate (RAC) and Client Licensor Certificate (CLC) ...\n"
             " - FAIL: Failed to acquire a Rights Account Certificate (RAC) and/or a Client Licensor Certificate (CLC).\n"
             "OVERALL RESULT: FAIL")


def irm_check(tmp_path, results):
    role_vars = {"rms_connector_client_kind": "exchange_2019", "rms_connector_client_connector_name": CONNECTOR,
                 "rms_connector_client_irm_test_sender": "adams@contoso.example"}
    irm_test = {"sender": "adams@contoso.example", "results": results}
    facts = {"__rms_connector_client_irm_test": {"changed": False, "irm_test": irm_test}}
    return run_role_tasks(tmp_path, "rms_connector_client", "verify_irm_checks", role_vars, facts)[0]


def test_irm_pass_passes(tmp_path):
    proc = irm_check(tmp_path, PASS_TEXT)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("results,texts", [
    (FAIL_TEXT, ["localhost: Test-IRMConfiguration -Sender adams@contoso.example reported OVERALL RESULT: FAIL; "
                 "first failing step: FAIL: Failed to acquire a Rights Account Certificate (RAC) and/or a Client "
                 "Licensor Certificate (CLC). Run Test-IRMConfiguration"]),
    ("", ["reported no OVERALL RESULT line."]),
    ("OVERALL RESULT: FAIL", ["reported OVERALL RESULT: FAIL. Run Test-IRMConfiguration"]),
])
def test_irm_not_pass_fails_in_one_line(tmp_path, results, texts):
    proc = irm_check(tmp_path, results)
    assert proc.returncode != 0
    line = failure_line(proc)
    for text in texts:
        assert text in line, line


def test_the_irm_test_is_read_only_and_needs_a_sender():
    tasks = _task("rms_connector_client", "Test-IRMConfiguration -Sender (read-only)")
    (task,) = tasks
    module = task["ems.enable.exchange_irm_configuration"]
    assert set(module) == {"test_sender", "exchange_server", "exchange_username", "exchange_password"}
    assert task["changed_when"] is False
    assert "rms_connector_client_irm_test_sender | length > 0" in task["when"]
