// Package phrases is Muster's default phrase bank: Nazi slogans and
// greetings banned under German StGB §86a and the Austrian Verbotsgesetz,
// and the numeric and abbreviated hate codes that platform terms cover,
// with the jurisdiction data a per-market policy needs (like the symbol
// bank): where each is banned, on what legal ground, the sources, and
// notes. Nothing is downloaded.
//
// Rules of this bank (see shared/reference/jurisdictions.md):
//   - Banned lists only jurisdictions whose law bans the phrase itself, with
//     a source; a policy blocks there and reviews elsewhere (Review).
//   - Anything unsure (conflicting sources, no court source found) has no
//     Banned jurisdiction: it ships as review and says why in Notes.
//   - Codes (88, 18, HH …) are review everywhere: German courts do not treat
//     them as §86a Kennzeichen ("Ersatzsymbole"), and they are ordinary
//     numbers and letters in most texts. Bare numbers match only as a whole
//     line (StandaloneOnly).
//
// ADL sources follow its database's address pattern
// (adl.org/resources/hate-symbol/<slug>); the slugs were not each opened.
// This is not legal advice; the legal team verifies before publishing.
package phrases

import (
	"github.com/muster-dev/muster/bank/textmatch"
)

// Bank is the name of the default phrase bank.
const Bank = "phrases"

// Phrase is one entry of the bank.
type Phrase struct {
	ID       string
	Label    string   // what it is, in English
	Category string   // textmatch.CategorySlogan, CategoryGreeting or CategoryCode
	Terms    []string // spellings to match (case, diacritics, ß/ss are handled by the matcher)
	Language string   // BCP 47
	// Banned are the jurisdictions (ISO 3166-1) whose law bans the phrase:
	// block there, review elsewhere.
	Banned []string
	Ground string // legal ground, e.g. "DE: StGB §86a (SA motto)"
	// Strict phrases match only as written (codes: "88" is not "BB").
	Strict bool
	// StandaloneOnly phrases match only as a whole line (bare numbers).
	StandaloneOnly bool
	Sources        []string // URLs
	Notes          string
}

// Sources cited more than once.
const (
	srcBrandenburg = "https://politische-bildung-brandenburg.de/themen/die-extreme-rechte/lifestyle/gru%C3%9Fformen-und-losungen"
	srcRothenburg  = "http://www.rothenburg-unterm-hakenkreuz.de/das-zeigen-von-ns-symbolen-ist-als-verfassungsschutzdelikt-verboten-doch-es-gibt-ausnahmen-wann-darf-das-hakenkreuz-gezeigt-werden/"
	srcRPOnline    = "https://rp-online.de/politik/analyse-und-meinung/hoecke-in-halle-vor-gericht-welche-ns-parolen-strafbar-sind-und-warum_aid-110905403"
	srcRNZ         = "https://www.rnz.de/home_artikel,-Hintergrundartikel-Hintergrund-Paragraf-86-_arid,124139.html"
	srcStern       = "https://ru24.pro/foreign/de/378709146" // Stern, "Diese NS-Parolen und -Symbole stehen unter Strafe" (mirror)
	srcBGHRuhm     = "http://www.markenmagazin.de/bgh-strafbarkeit-der-parole-ruhm-und-ehre-der-waffen-ss/"
	srcSZRuhm      = "https://www.sueddeutsche.de/politik/urteil-zu-neonazi-spruechen-die-parole-ruhm-und-ehre-der-waffen-ss-ist-legal-1.424433"
	srcCaseList    = "https://www.s-f-n.org/blogs/hinweise/%C2%A7-86a-stgb-04-2008-ein-junges-volk-und-andere-verfassungswidrige-kennzeichen/"
	srcATStrobl    = "https://rechtsanwalt-strobl.at/?p=1924"
	srcATHofer     = "https://anwalt-hofer.at/verbotsgesetz-1947-hohe-strafen-drohen/"
	srcAbzG        = "https://www.jusline.at/gesetz/abzg/gesamt"
	srcADL         = "https://www.adl.org/resources/hate-symbol/" // + slug
	srcADLNews     = "https://jewishstandard.timesofisrael.com/vandals-strike-maywood-synagogue-2/"
)

// Grounds.
const (
	ground86a = "DE: StGB §86a (Parolen und Grußformen of NSDAP organisations, §86a(2))"
	groundAT  = "AT: Verbotsgesetz 1947 §3g (Betätigung im nationalsozialistischen Sinn)"
)

// All returns the default phrase bank, in a fixed order.
func All() []Phrase {
	return []Phrase{
		// Greetings.
		{ID: "sieg-heil", Label: "\"Sieg Heil\" (NSDAP greeting)", Category: textmatch.CategoryGreeting, Language: "de",
			Terms:  []string{"Sieg Heil", "Siegheil", "Sieg Hail"},
			Banned: []string{"DE", "AT"}, Ground: ground86a + "; " + groundAT,
			Sources: []string{srcRNZ, srcBrandenburg, srcRothenburg, srcATStrobl},
			Notes:   "Named as a punishable Grußform in every German source; in AT the propagandistic use of \"Sieg Heil\" is an example of Betätigung under §3g (rechtsanwalt-strobl.at)."},
		{ID: "heil-hitler", Label: "\"Heil Hitler\" (Hitler greeting)", Category: textmatch.CategoryGreeting, Language: "de",
			Terms:  []string{"Heil Hitler", "Heil mein Führer"},
			Banned: []string{"DE", "AT"}, Ground: ground86a + "; " + groundAT,
			Sources: []string{srcBrandenburg, srcRothenburg, srcCaseList, srcATHofer},
			Notes:   "DE: OLG Celle 1 Ss 114/70 (NJW 1970, 2257), as cited in the case list. AT: glorifying Hitler is Betätigung under §3g (OGH case law summarised by anwalt-hofer.at)."},
		{ID: "sieg-und-heil-fuer-deutschland", Label: "\"Sieg und Heil für Deutschland\"", Category: textmatch.CategoryGreeting, Language: "de",
			Terms:  []string{"Sieg und Heil für Deutschland", "Sieg und Heil fuer Deutschland"},
			Banned: []string{"DE"}, Ground: ground86a,
			Sources: []string{srcBrandenburg},
			Notes:   "Listed as banned by Brandenburg's Landeszentrale für politische Bildung. AT: not verified; review."},
		{ID: "mit-deutschem-gruss", Label: "\"Mit deutschem Gruß\" (letter closing)", Category: textmatch.CategoryGreeting, Language: "de",
			Terms:   []string{"Mit deutschem Gruß", "Mit deutschem Gruss"},
			Sources: []string{srcBrandenburg, srcCaseList, srcRothenburg},
			Notes: "UNSURE, so review everywhere: sources conflict with the common view that the bare closing is lawful. Brandenburg's Landeszentrale lists it as banned and a case list cites BGH 3 StR 280/76 (BGHSt 27, 1) as holding it punishable in a letter; " +
				"another source says it only \"can\" fall under §86a. The judgment itself was not checked; legal must verify before any block."},

		// Slogans of NSDAP organisations.
		{ID: "meine-ehre-heisst-treue", Label: "\"Meine Ehre heißt Treue\" (SS motto)", Category: textmatch.CategorySlogan, Language: "de",
			Terms:  []string{"Meine Ehre heißt Treue", "Meine Ehre heisst Treue", "Unsere Ehre heißt Treue", "Unsere Ehre heisst Treue"},
			Banned: []string{"DE"}, Ground: ground86a + " (SS motto; \"Unsere Ehre heißt Treue\" as confusingly similar, §86a(2) s.2)",
			Sources: []string{srcRNZ, srcRothenburg, srcCaseList, srcSZRuhm, srcStern},
			Notes:   "\"Unsere Ehre heißt Treue\": OLG Hamm 2 Ss 160/02 (NStZ-RR 2002, 231), as cited in the case list. AT: the SS is a banned organisation (Verbotsgesetz §3a, Abzeichengesetz §1 covers its Kennzeichen) but a court source for the motto as text was not found: review."},
		{ID: "blut-und-ehre", Label: "\"Blut und Ehre\" (Hitler Youth motto)", Category: textmatch.CategorySlogan, Language: "de",
			Terms:  []string{"Blut und Ehre"},
			Banned: []string{"DE"}, Ground: ground86a + " (Hitlerjugend motto)",
			Sources: []string{srcRNZ, srcBGHRuhm, srcStern},
			Notes:   "The original HJ motto is a Kennzeichen; the English \"Blood and Honour\" is not, as a translation (BGH, per Stern) — see entry blood-and-honour. AT: review."},
		{ID: "alles-fuer-deutschland", Label: "\"Alles für Deutschland\" (SA motto)", Category: textmatch.CategorySlogan, Language: "de",
			Terms:  []string{"Alles für Deutschland", "Alles fuer Deutschland"},
			Banned: []string{"DE"}, Ground: ground86a + " (SA motto)",
			Sources: []string{srcRPOnline, "https://dd-legal.de/Standard-Inhaltsseite/Alles-fuer-Deutschland-strafbar-SA-Parole-Strafbarkeit-86a-StGB",
				"https://www.ffh.de/video/mediathek/444162-afd-politiker-bjoern-hoecke-muss-wegen-ns-parole-geldstrafe-zahlen.html", srcCaseList},
			Notes: "OLG Hamm 1 Ss 432/05 (2006); LG Halle 2024 (Höcke), upheld by the BGH; BVerfG 1 BvR 693/06. An everyday phrase too (\"alles für Deutschland geben\"): matched as the exact phrase only. AT: review."},
		{ID: "deutschland-erwache", Label: "\"Deutschland erwache\" (NSDAP/SA slogan)", Category: textmatch.CategorySlogan, Language: "de",
			Terms:  []string{"Deutschland erwache"},
			Banned: []string{"DE"}, Ground: ground86a,
			Sources: []string{srcStern, "https://rodorf.de/Web22/11%20Demokratie/2025/11_2%20Was%20darf%20man%20heute%20noch%20posten.htm"},
			Notes:   "Stern puts it in line with \"Alles für Deutschland\"; rodorf.de (police training) questions whether every use is punishable. AT: review."},
		{ID: "ruhm-und-ehre-der-waffen-ss", Label: "\"Ruhm und Ehre der Waffen-SS\"", Category: textmatch.CategorySlogan, Language: "de",
			Terms:   []string{"Ruhm und Ehre der Waffen-SS"},
			Sources: []string{srcBGHRuhm, srcSZRuhm},
			Notes:   "NOT banned in DE: BGH 3 StR 60/05 (2005) acquitted — not confusingly similar to the HJ or SS mottos. Glorifies the SS: review under platform terms."},
		{ID: "arbeit-macht-frei", Label: "\"Arbeit macht frei\" (concentration camp gate inscription)", Category: textmatch.CategorySlogan, Language: "de",
			Terms:   []string{"Arbeit macht frei"},
			Sources: []string{"https://amp.zdf.de/nachrichten/politik/deutschland/hoecke-prozess-nazi-parolen-vokabular-verbotene-begriffe-100.html"},
			Notes:   "UNSURE: ZDF calls it \"umstritten und teils verboten\"; not an organisation's Kennzeichen as such. Review everywhere."},
		{ID: "ein-volk-ein-reich-ein-fuehrer", Label: "\"Ein Volk, ein Reich, ein Führer\" (NSDAP slogan)", Category: textmatch.CategorySlogan, Language: "de",
			Terms:   []string{"Ein Volk, ein Reich, ein Führer", "Ein Volk ein Reich ein Fuehrer"},
			Sources: []string{"https://de.m.wikipedia.org/wiki/Verwenden_von_Kennzeichen_verfassungswidriger_und_terroristischer_Organisationen"},
			Notes:   "UNSURE: an NSDAP slogan, likely a §86a Parole, but no court source was found: review everywhere until legal verifies."},

		// Names of banned associations and white-supremacist slogans.
		{ID: "combat-18", Label: "\"Combat 18\" (banned neo-Nazi association)", Category: textmatch.CategorySlogan, Language: "en",
			Terms:  []string{"Combat 18"},
			Banned: []string{"DE"}, Ground: "DE: StGB §86a with §86(1) Nr. 2 (Kennzeichen of an association banned on 6 Dec 2019, Vereinsgesetz §3)",
			Sources: []string{"https://www.bverwg.de/de/pm/2020/54", "https://www.jungewelt.de/artikel/371192.combat-18-jetzt-doch-illegal.html", srcADL + "combat-18"},
			Notes:   "The ban of \"Combat 18 Deutschland\" stays enforceable (BVerwG, 21 Sep 2020). Elsewhere: review under platform terms."},
		{ID: "blood-and-honour", Label: "\"Blood & Honour\" (neo-Nazi network)", Category: textmatch.CategorySlogan, Language: "en",
			Terms:   []string{"Blood and Honour", "Blood & Honour", "Blood and Honor"},
			Sources: []string{srcStern, "https://www.jungewelt.de/artikel/371192.combat-18-jetzt-doch-illegal.html", srcADL + "blood-honour"},
			Notes:   "UNSURE: the German division was banned in Sept 2000, so its Kennzeichen fall under §86a, but the BGH held the English phrase is not the HJ motto \"Blut und Ehre\"; whether the bare phrase refers to the banned division depends on context. Review everywhere."},
		{ID: "fourteen-words", Label: "The \"Fourteen Words\" (white-supremacist slogan)", Category: textmatch.CategorySlogan, Language: "en",
			Terms: []string{"We must secure the existence of our people and a future for white children", "14 words", "fourteen words"},
			// "14 words" contains a digit: the whole entry is matched as written.
			Strict:  true,
			Sources: []string{srcADL + "14-words", srcADLNews},
			Notes:   "No national ban found; platform terms (hate speech). Review."},
		{ID: "white-power", Label: "\"White Power\" / \"White Pride World Wide\"", Category: textmatch.CategorySlogan, Language: "en",
			Terms:   []string{"White Pride World Wide", "White Power World Wide"},
			Sources: []string{srcADL + "wpww"},
			Notes:   "Platform terms; review. The bare \"white power\" is left out: too many ordinary uses (paint, laundry)."},
		{ID: "blut-und-boden", Label: "\"Blut und Boden\" / \"Blood and Soil\"", Category: textmatch.CategorySlogan, Language: "de",
			Terms:   []string{"Blut und Boden", "Blood and Soil"},
			Sources: []string{srcADL + "blood-and-soil"},
			Notes:   "Nazi ideology slogan chanted at Charlottesville 2017 (ADL); not an organisation's Kennzeichen: review."},

		// Codes: review everywhere.
		{ID: "code-88", Label: "88 (\"Heil Hitler\", H = 8th letter)", Category: textmatch.CategoryCode,
			Terms: []string{"88"}, Strict: true, StandaloneOnly: true,
			Sources: []string{srcADL + "88", srcRNZ},
			Notes:   "Not a §86a Kennzeichen in DE (an Ersatzsymbol, per RNZ); a year, age or number far more often: matched only as a whole line."},
		{ID: "code-18", Label: "18 (\"Adolf Hitler\", A = 1, H = 8)", Category: textmatch.CategoryCode,
			Terms: []string{"18"}, Strict: true, StandaloneOnly: true,
			Sources: []string{srcADL + "18", "https://www.bverwg.de/de/pm/2020/54"},
			Notes:   "As in \"Combat 18\"; an ordinary number: matched only as a whole line."},
		{ID: "code-14", Label: "14 (the \"Fourteen Words\")", Category: textmatch.CategoryCode,
			Terms: []string{"14"}, Strict: true, StandaloneOnly: true,
			Sources: []string{srcADL + "14-words"},
			Notes:   "An ordinary number: matched only as a whole line."},
		{ID: "code-1488", Label: "1488 / 14/88 (Fourteen Words + Heil Hitler)", Category: textmatch.CategoryCode,
			Terms: []string{"1488", "14/88", "14-88", "88/14"}, Strict: true,
			Sources: []string{srcADL + "1488", srcADLNews},
			Notes:   "Rarely innocent as a token of its own (not inside a longer number). Review."},
		{ID: "code-28", Label: "28 (Blood & Honour, B = 2, H = 8)", Category: textmatch.CategoryCode,
			Terms: []string{"28"}, Strict: true, StandaloneOnly: true,
			Sources: []string{srcADL + "28"},
			Notes:   "An ordinary number: matched only as a whole line."},
		{ID: "code-hh", Label: "HH (\"Heil Hitler\")", Category: textmatch.CategoryCode,
			Terms: []string{"HH"}, Strict: true, StandaloneOnly: true,
			Sources: []string{srcADL + "hh"},
			Notes:   "Also Hamburg's abbreviation and initials: matched only as a whole line."},
		{ID: "code-zog", Label: "ZOG (\"Zionist Occupied Government\")", Category: textmatch.CategoryCode,
			Terms: []string{"ZOG", "Zionist Occupied Government", "Zionist Occupation Government"}, Strict: true,
			Sources: []string{srcADL + "zog"},
			Notes:   "Antisemitic conspiracy term. Review."},
		{ID: "code-rahowa", Label: "RaHoWa (\"Racial Holy War\")", Category: textmatch.CategoryCode,
			Terms:   []string{"RaHoWa", "Racial Holy War"},
			Sources: []string{srcADL + "rahowa"},
			Notes:   "Review."},
		{ID: "code-wpww", Label: "WPWW (\"White Pride World Wide\")", Category: textmatch.CategoryCode,
			Terms: []string{"WPWW"}, Strict: true,
			Sources: []string{srcADL + "wpww"},
			Notes:   "Review."},
		{ID: "code-c18", Label: "C18 (Combat 18)", Category: textmatch.CategoryCode,
			Terms: []string{"C18"}, Strict: true, StandaloneOnly: true,
			Sources: []string{srcADL + "combat-18"},
			Notes:   "Also a product/part code: matched only as a whole line. Review."},
	}
}

// Entries returns the bank as matcher entries.
func Entries() []textmatch.Entry {
	all := All()
	out := make([]textmatch.Entry, 0, len(all))
	for _, p := range all {
		out = append(out, p.Entry())
	}
	return out
}

// Entry converts a phrase to a matcher entry. Every phrase is reviewed
// outside its banned jurisdictions.
func (p Phrase) Entry() textmatch.Entry {
	return textmatch.Entry{
		ID: p.ID, Bank: Bank, Kind: textmatch.KindPhrase, Terms: p.Terms,
		Strict: p.Strict, StandaloneOnly: p.StandaloneOnly,
		Phrase: &textmatch.PhraseInfo{Category: p.Category, Banned: p.Banned, Ground: p.Ground,
			Review: true, Sources: p.Sources, Language: p.Language},
	}
}
