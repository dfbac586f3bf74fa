"""AD FS and Web Application Proxy: the controller-side check of the TLS certificate (certificate,
the entry point of ems.enable.adfs_certificate_info) and the PowerShell module_util of the Windows
modules adfs_farm, adfs_farm_node and web_application_proxy (AdfsDeployment.psm1)."""
