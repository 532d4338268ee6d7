"""The categories every layer uses, defined once: sectors, size classes, title tiers, service
sectors, contractors' efforts, the firms' investment options and the outcomes of a work.

Plain tuples of names (no numpy, so importing this costs nothing); arrays indexed by these
codes live where they are used. Plan sections: ``docs/plan/quality_city_plan.en.md``.
"""

SECTORS = (
    "textiles_garments",
    "equipment_manufacturing",
    "agrochemicals",
    "electronics_electrical",
    "new_materials",
    "food_farm_processing",
    "other",
)
KEY_INDUSTRIES = SECTORS[:5]  # §2.2.1e
SECTOR_INDEX = {s: i for i, s in enumerate(SECTORS)}
SIZES = ("large", "medium", "small")
SIZE_INDEX = {s: i for i, s in enumerate(SIZES)}
# award titles, lowest first; tier 0 holds none (§3.1, §4.2)
TIERS = ("none", "provincial_award", "china_famous_brand", "national_award")
# §2.2.3: the service sectors the plan lists
SERVICE_SECTORS = ("transport", "post", "telecom", "commerce", "tourism", "health", "finance",
                   "insurance", "real_estate", "consulting")
# the published grades of a firm's quality file (§3.3 tiered supervision), best first
GRADES = ("A", "B", "C", "D")
EFFORTS = ("cut_corners", "standard", "excellence")  # a contractor's quality effort on its works

# what a reviewing enterprise can do with its investment decision (docs/ODD.md §7.2)
OPTIONS = ("nothing", "upgrade", "intl_standard", "certify", "abate", "apply_title")
INVESTMENTS = OPTIONS[1:]  # each decided on its own at a review (docs/ODD.md §7.2)

# the outcome of one construction work (§2.2.2): failed one-time acceptance, a hidden defect,
# rated excellent, or a plain pass
WORK_OUTCOMES = ("fail", "hidden", "excellent", "plain")
FAIL, HIDDEN, EXCELLENT, PLAIN = range(len(WORK_OUTCOMES))

# the quality file's events (engine/quality_file.py): one 64-bit word per event and firm, bit k
# set when the event happened k months ago, so the file keeps FILE_MONTHS months
FILE_EVENTS = ("national_checked", "national_failed", "inspected", "inspection_failed",
               "counterfeit_found", "sanctioned", "title_won", "certified")
FILE_FIELDS = tuple(f"file_{event}" for event in FILE_EVENTS)
FILE_MONTHS = 64
