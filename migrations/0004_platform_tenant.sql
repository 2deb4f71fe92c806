-- The platform operator's tenant: its reviewer, legal and admin keys act on
-- platform-wide things (the global policy, banks); other tenants' keys never do.
ALTER TABLE tenants ADD COLUMN platform boolean NOT NULL DEFAULT false;
