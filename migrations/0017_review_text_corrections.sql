-- Owner: review. "Not this mark" for text findings: a reviewer may mark a
-- word-mark (or phrase) finding of the text screener wrong, as well as the
-- bank analyzer's logo and symbol findings (0014).
--
-- source says which analyzer's finding it corrects and what sha256 is:
--   image    the bank analyzer's match in the design bytes (sha256 of the bytes)
--   ocr      a mark in the text read from the design bytes (sha256 of the bytes)
--   listing  a mark in the listing text the merchant typed (sha256 of the
--            field's text as screened, mustertype.ListingTextKey): the
--            same text never raises the entry again, whatever the image
-- field is the listing field it was made on (title, tags, description), for
-- the record; the text's hash is the key.
--
-- A correction of one source does not suppress the entry for another (a
-- word "Apple" that is not the Apple mark says nothing about a logo in the
-- same design). bank.Store.CorrectedFor reads them by source; Misfires
-- counts every source per entry.

ALTER TABLE review_corrections
    ADD COLUMN source text NOT NULL DEFAULT 'image' CHECK (source IN ('image', 'ocr', 'listing')),
    ADD COLUMN field  text NOT NULL DEFAULT '';
DROP INDEX review_corrections_once;
CREATE UNIQUE INDEX review_corrections_once ON review_corrections (sha256, source, bank, entry_id, coalesce(scope_tenant, '00000000-0000-0000-0000-000000000000'));
