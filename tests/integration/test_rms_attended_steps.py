"""The attended steps of the connector roles render into the instruction blocks an operator reads.

The steps only show on a Windows host whose wizard step is pending, so here each step's variables
(taken from the role's task file, unchanged) are rendered by Ansible on the controller with values
like an inventory's, and the result is checked: a list of non-empty lines naming the values, and
detection settings the shared mechanism accepts. Also the RMS authorization step lists exactly the
accounts connector_preflight computed.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import yaml

from connector_play import ROOT, project_env

STEPS = {
    # step id: (task file, role defaults, extra variables)
    "rms_connector.install": ("roles/rms_connector/tasks/install.yml", "roles/rms_connector/defaults/main.yml", {
        "rms_connector_name": "rmsconnector.contoso.com", "rms_connector_admin_account": "rmsadmin@contoso.com",
        "rms_connector_installer_src": "/tmp/RMSConnectorSetup.exe",
        "groups": {"rms_connector": ["rms01.contoso.com", "rms02.contoso.com"]}}),
    "rms_connector.authorize": ("roles/rms_connector/tasks/authorize.yml", "roles/rms_connector/defaults/main.yml", {
        "rms_connector_name": "rmsconnector.contoso.com",
        "__rms_connector_plan": {"authorization": [
            {"account": "Exchange Servers", "server_type": "Exchange", "line": "Add Exchange Servers, server type Exchange: ..."},
            {"account": "CONTOSO\\sp-farm", "server_type": "SharePoint", "line": "Add CONTOSO\\sp-farm, server type SharePoint: ..."},
            {"account": "CONTOSO\\FS01$", "server_type": "FCI", "line": "Add CONTOSO\\FS01$, server type FCI: ..."}]}}),
    "exchange_connector.setup": (
        "roles/intune_exchange_connector/tasks/setup.yml", "roles/intune_exchange_connector/defaults/main.yml", {
            "intune_exchange_connector_cas_server": "ex01.contoso.com",
            "intune_exchange_connector_service_account": "CONTOSO\\svc-iec",
            "__intune_exchange_connector_setup_dir": "C:\\ProgramData\\ems.enable\\exchange_connector\\Exchange_Connector_Setup"}),
}
EXPECTED = {
    "rms_connector.install": ["rms01.contoso.com", "AzureCloud", "rmsadmin@contoso.com", "rms02.contoso.com",
                              "C:\\ProgramData\\ems.enable\\rms_connector\\RMSConnectorSetup.exe"],
    "rms_connector.authorize": ["Exchange Servers", "CONTOSO\\sp-farm", "CONTOSO\\FS01$", "event 1004"],
    "exchange_connector.setup": ["ex01.contoso.com", "CONTOSO\\svc-iec", "Exchange_Connector_Setup.exe",
                                 "Exchange_Connector_Setup\\Exchange_Connector_Setup.exe"],
}


def _step_vars(task_file):
    tasks = yaml.safe_load((ROOT / task_file).read_text())
    step = [t for t in tasks if t.get("ansible.builtin.include_role", {}).get("name") == "ems.enable.attended_step"]
    assert len(step) == 1, task_file
    return step[0]["vars"]


def test_attended_steps_render(tmp_path):
    plays = []
    for step_id, (task_file, defaults, extra) in STEPS.items():
        variables = dict(yaml.safe_load((ROOT / defaults).read_text()))
        role_vars = ROOT / task_file.replace("tasks/" + task_file.rsplit("/", 1)[1], "vars/main.yml")
        if role_vars.exists():
            variables.update(yaml.safe_load(role_vars.read_text()))
        variables.update({k: v for k, v in extra.items() if k != "groups"})
        variables.update(_step_vars(task_file))
        host = "iec01.contoso.com" if step_id.startswith("exchange_connector") else "rms01.contoso.com"
        plays.append({
            "name": step_id, "hosts": host, "gather_facts": False, "vars": variables,
            "tasks": [{"name": "render", "ansible.builtin.copy": {
                "dest": str(tmp_path / (step_id + ".json")), "mode": "0644",
                "content": "{{ {'id': attended_step_id, 'title': attended_step_title, "
                           "'instructions': attended_step_instructions, 'values': attended_step_values, "
                           "'detect': attended_step_detect, 'detection': attended_step_detection} | to_json }}"}}]})
    inventory = {"all": {"vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                         "children": {"rms_connector": {"hosts": {"rms01.contoso.com": None, "rms02.contoso.com": None}},
                                      "exchange_connector": {"hosts": {"iec01.contoso.com": None}}}}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    # lookup('ansible.builtin.file', ...) of a role task finds the role's files/; here, the play's files/.
    shutil.copytree(ROOT / "roles/rms_connector/files", tmp_path / "files")
    (tmp_path / "play.yml").write_text(yaml.safe_dump(plays))
    proc = subprocess.run(["ansible-playbook", "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml"), "-v"],
                          env=project_env(), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rendered = {}
    for step_id in STEPS:
        msg = json.loads((tmp_path / (step_id + ".json")).read_text())
        rendered[msg["id"]] = msg
    assert set(rendered) == set(STEPS), proc.stdout
    for step_id, msg in rendered.items():
        lines = msg["instructions"]
        assert isinstance(lines, list) and len(lines) >= 4, (step_id, lines)
        assert all(isinstance(line, str) and line.strip() and "{{" not in line for line in lines), (step_id, lines)
        text = "\n".join(lines + ["%s: %s" % item for item in msg["values"].items()])
        for expected in EXPECTED[step_id]:
            assert expected in text, (step_id, expected, lines)
        assert msg["detect"]["module"].startswith("ansible.windows.") and msg["detect"]["key"], step_id
        assert msg["detection"] and "{{" not in msg["detection"], step_id
    accounts = [line for line in rendered["rms_connector.authorize"]["instructions"] if line.startswith("Add ")]
    assert [a[4:].split(", server type")[0] for a in accounts] == [
        "Exchange Servers", "CONTOSO\\sp-farm", "CONTOSO\\FS01$"]


def test_package_folder_becomes_a_windows_path(tmp_path):
    """package.yml's setup_dir: the zip's folder (forward slashes) under the work dir, one backslash each."""
    tasks = yaml.safe_load((ROOT / "roles/intune_exchange_connector/tasks/package.yml").read_text())
    set_dir = tasks[0]["ansible.builtin.set_fact"]["__intune_exchange_connector_setup_dir"]
    variables = dict(yaml.safe_load((ROOT / "roles/intune_exchange_connector/defaults/main.yml").read_text()))
    variables.update(yaml.safe_load((ROOT / "roles/intune_exchange_connector/vars/main.yml").read_text()))
    cases = {"": "C:\\ProgramData\\ems.enable\\exchange_connector",
             "Exchange_Connector_Setup": "C:\\ProgramData\\ems.enable\\exchange_connector\\Exchange_Connector_Setup",
             "a/b": "C:\\ProgramData\\ems.enable\\exchange_connector\\a\\b"}
    plays = [{"name": "folder %d" % number, "hosts": "localhost", "gather_facts": False,
              "vars": dict(variables, __intune_exchange_connector_plan={"package": {"folder": folder}},
                           __intune_exchange_connector_setup_dir=set_dir),
              "tasks": [{"name": "render", "ansible.builtin.copy": {
                  "dest": str(tmp_path / ("%d.json" % number)), "mode": "0644",
                  "content": "{{ __intune_exchange_connector_setup_dir | to_json }}"}}]}
             for number, folder in enumerate(cases)]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(plays))
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(tmp_path / "play.yml"),
                           "-e", "ansible_python_interpreter={{ ansible_playbook_python }}"],
                          env=project_env(), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for number, expected in enumerate(cases.values()):
        assert json.loads((tmp_path / ("%d.json" % number)).read_text()) == expected
