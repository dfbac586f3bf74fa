#!powershell

# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ansible_collections.ems.enable.plugins.module_utils.connectors.ExchangeSession

# A custom Exchange management role (RBAC) holding EXACTLY the given cmdlets, assigned to one user.
# Exchange only lets a custom role copy entries of ONE parent role ("You can only add a role entry to
# a management role if the role entry exists in the role's parent role", Add-ManagementRoleEntry), so
# the cmdlets are covered by as few built-in parent roles as possible and one child role is kept per
# parent: "<name> - <parent>". Cmdlets for which no role exists (Get-Command: PowerShell core) are
# reported, not failed. Microsoft references (MicrosoftDocs/office-docs-powershell,
# exchange/exchange-ps/ExchangePowerShell/<cmdlet>.md):
#   Get-ManagementRole -Cmdlet / -Identity        roles holding a cmdlet; a role's Parent, IsRootRole,
#                                                 IsEndUserRole
#   New-ManagementRole -Name -Parent              child role with all of the parent's entries
#   Get-ManagementRoleEntry "<role>\*"            the entries of a role
#   Remove-ManagementRoleEntry "<role>\<cmdlet>"  drop an entry (-Confirm:$false)
#   Add-ManagementRoleEntry "<role>\<cmdlet>"     add an entry that exists on the parent
#   Get-ManagementRoleAssignment -Role -RoleAssignee -AssignmentMethod Direct
#   New-ManagementRoleAssignment -Role -User      assign the role to the user
#   Remove-ManagementRoleAssignment -Identity     (state=absent, and stale child roles)
#   Remove-ManagementRole -Identity               (state=absent, and stale child roles; -Confirm:$false)

$spec = @{
    options = @{
        name = @{ type = 'str'; required = $true }
        cmdlets = @{ type = 'list'; elements = 'str'; required = $true }
        user = @{ type = 'str'; required = $true }
        parent_roles = @{ type = 'list'; elements = 'str' }
        state = @{ type = 'str'; default = 'present'; choices = 'present', 'absent' }
    }
    supports_check_mode = $true
}
$spec.options += Get-EmsExchangeSessionSpec
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$name = $module.Params.name
$user = $module.Params.user
$wanted = @($module.Params.cmdlets | Sort-Object -Unique)
$module.Result.changed = $false
$module.Result.roles = @{}
$module.Result.unmanaged_cmdlets = @()
$module.Diff.before = @{}
$module.Diff.after = @{}

# "<name> - <parent>" must fit the 64 characters of a role name (New-ManagementRole -Name).
if ($name.Length -gt 40) {
    $module.FailJson("name '$name' is longer than 40 characters; with ' - <parent role>' it must fit the 64 characters of an Exchange role name.")
}

$commands = @(
    'Get-ManagementRole', 'New-ManagementRole', 'Remove-ManagementRole', 'Get-ManagementRoleEntry',
    'Add-ManagementRoleEntry', 'Remove-ManagementRoleEntry', 'Get-ManagementRoleAssignment',
    'New-ManagementRoleAssignment', 'Remove-ManagementRoleAssignment'
)
$session = Connect-EmsExchangeSession -Module $module -CommandName $commands

Function Get-ChildRoleState {
    param ([string]$RoleName)
    # Get-ManagementRole -Identity: https://learn.microsoft.com/powershell/module/exchangepowershell/get-managementrole
    $role = Get-ManagementRole -Identity $RoleName -ErrorAction SilentlyContinue
    if (-not $role) {
        return $null
    }
    # Get-ManagementRoleEntry "<role>\*" (all entries of a role): https://learn.microsoft.com/powershell/module/exchangepowershell/get-managementroleentry
    $entries = @(Get-ManagementRoleEntry -Identity "$RoleName\*" -ErrorAction Stop | ForEach-Object { [string]$_.Name } |
            Sort-Object -Unique)
    # Get-ManagementRoleAssignment -Role -RoleAssignee -AssignmentMethod Direct (RoleAssignee parameter set;
    # Direct leaves out assignments through role groups): https://learn.microsoft.com/powershell/module/exchangepowershell/get-managementroleassignment
    $assigned = @(Get-ManagementRoleAssignment -Role $RoleName -RoleAssignee $user -AssignmentMethod Direct `
            -ErrorAction SilentlyContinue)
    @{
        parent = Get-EmsExchangeIdName -Id $role.Parent
        entries = $entries
        assigned = ($assigned.Count -gt 0)
    }
}

try {
    # Child roles this module made before ("<name> - *").
    $existing = @{}
    foreach ($role in @(Get-ManagementRole -ErrorAction Stop | Where-Object { [string]$_.Name -like "$name - *" })) {
        $roleName = [string]$role.Name
        $existing[$roleName] = Get-ChildRoleState -RoleName $roleName
        $module.Diff.before[$roleName] = $existing[$roleName]
    }

    $plan = [ordered]@{}  # parent -> cmdlets
    if ($module.Params.state -eq 'present') {
        # Built-in, non end-user roles holding each cmdlet.
        $holders = @{}
        foreach ($cmdlet in $wanted) {
            # Get-ManagementRole -Cmdlet: "returns a list of all roles that include the specified cmdlet";
            # IsRootRole / IsEndUserRole keep built-in administrator roles only.
            $roles = @(Get-ManagementRole -Cmdlet $cmdlet -ErrorAction SilentlyContinue | Where-Object {
                    $_.IsRootRole -and -not $_.IsEndUserRole
                } | ForEach-Object { [string]$_.Name })
            if ($module.Params.parent_roles) {
                $roles = @($roles | Where-Object { $module.Params.parent_roles -contains $_ })
            }
            if ($roles.Count -eq 0) {
                $module.Result.unmanaged_cmdlets += $cmdlet
            }
            else {
                $holders[$cmdlet] = $roles
            }
        }
        if ($module.Result.unmanaged_cmdlets.Count -gt 0) {
            $module.Warn(("No built-in management role holds {0}: it is not controlled by RBAC roles (PowerShell core " +
                    "cmdlets such as Get-Command are available in every Exchange session), so no role entry is made for it.") -f
                ($module.Result.unmanaged_cmdlets -join ', '))
        }

        # Greedy cover: the parent holding most of the remaining cmdlets first (ties: by name).
        $remaining = [System.Collections.Generic.List[string]]@($holders.Keys | Sort-Object)
        while ($remaining.Count -gt 0) {
            $score = @{}
            foreach ($cmdlet in $remaining) {
                foreach ($role in $holders[$cmdlet]) {
                    $score[$role] = 1 + [int]$score[$role]
                }
            }
            $best = $score.GetEnumerator() | Sort-Object -Property @{ Expression = { $_.Value }; Descending = $true },
            @{ Expression = { $_.Key }; Descending = $false } | Select-Object -First 1
            $covered = @($remaining | Where-Object { $holders[$_] -contains $best.Key })
            $plan[$best.Key] = $covered
            foreach ($cmdlet in $covered) {
                $null = $remaining.Remove($cmdlet)
            }
        }
    }

    # Remove child roles that are not in the plan any more (or all of them with state=absent).
    foreach ($roleName in @($existing.Keys)) {
        $parent = $existing[$roleName].parent
        if ($plan.Contains($parent) -and $roleName -eq "$name - $parent") {
            continue
        }
        $module.Result.changed = $true
        if (-not $module.CheckMode) {
            foreach ($assignment in @(Get-ManagementRoleAssignment -Role $roleName -ErrorAction SilentlyContinue)) {
                # Remove-ManagementRoleAssignment -Identity: https://learn.microsoft.com/powershell/module/exchangepowershell/remove-managementroleassignment
                Remove-ManagementRoleAssignment -Identity $assignment.Identity -Confirm:$false -ErrorAction Stop
            }
            # Remove-ManagementRole ("You need to remove all the management role assignments from a role before
            # you delete it"): https://learn.microsoft.com/powershell/module/exchangepowershell/remove-managementrole
            Remove-ManagementRole -Identity $roleName -Confirm:$false -ErrorAction Stop
        }
    }

    foreach ($parent in $plan.Keys) {
        $roleName = "$name - $parent"
        $want = @($plan[$parent] | Sort-Object -Unique)
        $state = $existing[$roleName]
        if ($state -and $state.parent -ne $parent) {
            $module.FailJson("Exchange role '$roleName' exists with parent '$($state.parent)', not '$parent'. Remedy: remove it (Remove-ManagementRole) or choose another name.")
        }
        if (-not $state) {
            $module.Result.changed = $true
            if ($module.CheckMode) {
                $state = @{ parent = $parent; entries = @(); assigned = $false }
            }
            else {
                # New-ManagementRole -Name -Parent (NewDerivedRole set: starts with all entries of the parent):
                # https://learn.microsoft.com/powershell/module/exchangepowershell/new-managementrole
                $null = New-ManagementRole -Name $roleName -Parent $parent -ErrorAction Stop
                $state = Get-ChildRoleState -RoleName $roleName
            }
        }
        # Compare the entries before changing anything: only the difference is touched.
        $remove = @($state.entries | Where-Object { $want -notcontains $_ })
        $add = @($want | Where-Object { $state.entries -notcontains $_ })
        if ($remove.Count -or $add.Count) {
            $module.Result.changed = $true
        }
        if (-not $module.CheckMode) {
            foreach ($entry in $remove) {
                # Remove-ManagementRoleEntry "<role>\<cmdlet>": https://learn.microsoft.com/powershell/module/exchangepowershell/remove-managementroleentry
                Remove-ManagementRoleEntry -Identity "$roleName\$entry" -Confirm:$false -ErrorAction Stop
            }
            foreach ($entry in $add) {
                # Add-ManagementRoleEntry "<role>\<cmdlet>" (the entry must exist on the parent role):
                # https://learn.microsoft.com/powershell/module/exchangepowershell/add-managementroleentry
                Add-ManagementRoleEntry -Identity "$roleName\$entry" -ErrorAction Stop
            }
        }
        if (-not $state.assigned) {
            $module.Result.changed = $true
            if (-not $module.CheckMode) {
                # New-ManagementRoleAssignment -Role -User (User parameter set): https://learn.microsoft.com/powershell/module/exchangepowershell/new-managementroleassignment
                $null = New-ManagementRoleAssignment -Role $roleName -User $user -ErrorAction Stop
            }
        }
        $module.Result.roles[$roleName] = @{ parent = $parent; cmdlets = $want }
        $module.Diff.after[$roleName] = @{ parent = $parent; entries = $want; assigned = $true }
    }
}
catch {
    $module.FailJson(("Exchange server {0}: managing the role '{1}' failed: {2}" -f $module.Params.exchange_server, $name,
            $_.Exception.Message), $_)
}
finally {
    Disconnect-EmsExchangeSession -Session $session
}

$module.ExitJson()
