-- Set up sending: an SMTP relay account, a default profile that uses it, and a fallback account.
SELECT mail.add_account(
  name         => 'office365',
  host         => 'smtp.office365.example',
  port         => 587,
  tls          => 'starttls_required',
  username     => 'app@example.com',
  password     => 'change-me',
  from_address => 'app@example.com',
  display_name => 'Example App');

-- Direct delivery to the recipients' MX hosts, used only when the relay cannot be reached.
SELECT mail.add_account(name => 'direct', delivery => 'mx', tls => 'starttls', helo_name => 'app.example.com',
                        from_address => 'app@example.com');

SELECT mail.add_profile('default', 'Mail from the application', is_default => true);
SELECT mail.add_profile_account('default', 'office365', 1);
SELECT mail.add_profile_account('default', 'direct', 2);

-- Global settings, as sysmail_configure_sp sets them in Database Mail.
SELECT mail.configure('retry_schedule', '1 minute, 10 minutes, 1 hour');
SELECT mail.configure('message_lifetime', '2 days');
SELECT mail.configure('prohibited_extensions', 'exe,dll,vbs,js,bat,cmd,com,scr,msi,ps1');
