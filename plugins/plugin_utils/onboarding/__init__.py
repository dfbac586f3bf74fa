"""The onboarding output and report of the callbacks ems.enable.onboarding and
ems.enable.onboarding_report: Ansible's callback events translated into recorder calls (events), the
report model with its verdicts and masking (model), the screen-share text layout (text) and the report
files (writers). plugins/action/attended_step.py also uses model for its instruction block."""
