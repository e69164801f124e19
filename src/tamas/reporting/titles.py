"""Column titles of the reports in Persian and Arabic: the one message catalogue.

A report's :class:`~tamas.reporting.table.Column` carries its English title; the exporters
(:mod:`tamas.reporting.export`) show the title in the file's language (``reports.language``
or ``language=``) through :func:`translate`. A title is looked up as written; the titles
made from a value (``Answered ≤ 20 s``, ``Paused: lunch``) through a pattern whose ``{}``
is that value. An abbreviation the trade uses as it is (AHT, ASA, FCR, CSAT, WAPE, MAPE)
keeps it in parentheses. A title missing here is shown in English (the test
tests/unit/test_report_titles.py fails for any column of a registered report without one).
"""

# ruff: noqa: RUF001 (Persian and Arabic letters that look like Latin ones are meant)

from __future__ import annotations

import re

__all__ = ["TITLES", "translate"]

#: English title -> (Persian, Arabic).
TITLES: dict[str, tuple[str, str]] = {
    "ACW": ("کار پس از تماس (ACW)", "عمل ما بعد المكالمة (ACW)"),
    "AHT": ("میانگین زمان رسیدگی (AHT)", "متوسط وقت المعالجة (AHT)"),
    "ASA": ("میانگین سرعت پاسخ (ASA)", "متوسط سرعة الرد (ASA)"),
    "Abandon rate": ("نرخ رهاشدگی", "معدل التخلي"),
    "Abandoned": ("رهاشده", "متروكة"),
    "Actual": ("واقعی", "الفعلي"),
    "Adherence": ("پایبندی به برنامه", "الالتزام بالجدول"),
    "Age": ("مدت از درخواست", "المدة منذ الطلب"),
    "Agent": ("کارشناس", "الوكيل"),
    "Agents rung": ("کارشناسان زنگ‌خورده", "الوكلاء الذين رنّ هاتفهم"),
    "Answered": ("پاسخ‌داده", "تم الرد"),
    "Attempts": ("تلاش‌ها", "المحاولات"),
    "Available": ("آماده", "متاح"),
    "CSAT": ("رضایت مشتری (CSAT)", "رضا العملاء (CSAT)"),
    "CSAT score": ("امتیاز رضایت", "درجة الرضا"),
    "Call": ("تماس", "المكالمة"),
    "Callback attempts failed": ("تلاش‌های ناموفق تماس برگشتی", "محاولات معاودة الاتصال الفاشلة"),
    "Callbacks completed": ("تماس‌های برگشتی انجام‌شده", "معاودات الاتصال المكتملة"),
    "Callbacks given up": ("تماس‌های برگشتی رهاشده", "معاودات الاتصال المتروكة"),
    "Callbacks requested": ("تماس‌های برگشتی درخواستی", "معاودات الاتصال المطلوبة"),
    "Caller": ("تماس‌گیرنده", "المتصل"),
    "Calls": ("تماس‌ها", "المكالمات"),
    "Calls answered": ("تماس‌های پاسخ‌داده", "المكالمات التي تم الرد عليها"),
    "Calls forecast": ("تماس‌های پیش‌بینی‌شده", "المكالمات المتوقعة"),
    "Calls offered": ("تماس‌های ورودی", "المكالمات الواردة"),
    "Cancelled": ("لغوشده", "ملغاة"),
    "Completed": ("انجام‌شده", "مكتملة"),
    "Completion rate": ("نرخ انجام", "معدل الإكمال"),
    "Conformance": ("انطباق با برنامه", "المطابقة للجدول"),
    "Day": ("روز", "اليوم"),
    "Day start": ("آغاز روز", "بداية اليوم"),
    "Detail": ("جزئیات", "التفاصيل"),
    "Device": ("دستگاه", "الجهاز"),
    "Drop rate": ("نرخ قطع", "معدل الانقطاع"),
    "Duration": ("مدت", "المدة"),
    "Entered": ("وارد شده", "الداخلون"),
    "Exit by key": ("خروج با کلید", "الخروج بمفتاح"),
    "Exit empty": ("خروج از صف خالی", "الخروج لخلو الطابور"),
    "Exits": ("خروج‌ها", "المخارج"),
    "Exits by destination": ("خروج‌ها بر اساس مقصد", "المخارج حسب الوجهة"),
    "FCR": ("حل در اولین تماس (FCR)", "الحل من أول اتصال (FCR)"),
    "Failed attempts": ("تلاش‌های ناموفق", "المحاولات الفاشلة"),
    "First missed": ("نخستین تماس از دست رفته", "أول مكالمة فائتة"),
    "Flow": ("جریان", "التدفق"),
    "Forecast": ("پیش‌بینی", "التوقع"),
    "Forecast accuracy": ("دقت پیش‌بینی", "دقة التوقع"),
    "Given up": ("رهاشده", "متروكة"),
    "Handled": ("رسیدگی‌شده", "تمت معالجتها"),
    "Hang-ups": ("قطع تماس", "إنهاء المكالمة"),
    "Hold": ("نگه‌داشت", "التعليق"),
    "In adherence": ("مطابق برنامه", "ضمن الالتزام"),
    "Intervals": ("بازه‌ها", "الفترات"),
    "Invalid": ("نامعتبر", "غير صالح"),
    "KPI": ("شاخص کلیدی عملکرد", "مؤشر الأداء"),
    "Keys": ("کلیدها", "المفاتيح"),
    "Kind": ("نوع", "النوع"),
    "Last attempt": ("آخرین تلاش", "آخر محاولة"),
    "Last kind": ("آخرین نوع", "النوع الأخير"),
    "Last missed": ("آخرین تماس از دست رفته", "آخر مكالمة فائتة"),
    "Logged in": ("مدت ورود", "مدة تسجيل الدخول"),
    "Logged in outside a shift": ("ورود خارج از شیفت", "الدخول خارج المناوبة"),
    "Login": ("ورود", "تسجيل الدخول"),
    "Logout": ("خروج", "تسجيل الخروج"),
    "Longest time to complete": ("بیشترین زمان انجام", "أطول وقت للإكمال"),
    "Longest wait": ("طولانی‌ترین انتظار", "أطول انتظار"),
    "MAPE": ("میانگین درصد خطای مطلق (MAPE)", "متوسط نسبة الخطأ المطلق (MAPE)"),
    "Mean time to complete": ("میانگین زمان انجام", "متوسط وقت الإكمال"),
    "Missed": ("از دست رفته", "فائتة"),
    "Missed calls": ("تماس‌های از دست رفته", "المكالمات الفائتة"),
    "Missed rings": ("زنگ‌های بی‌پاسخ", "رنين بلا رد"),
    "Name": ("نام", "الاسم"),
    "Not logged in": ("وارد نشده", "غير مسجل الدخول"),
    "Note": ("یادداشت", "ملاحظة"),
    "Number": ("شماره", "الرقم"),
    "Occupancy": ("اشغال", "الإشغال"),
    "Offered": ("ورودی به صف", "الواردة"),
    "Only short abandons": ("فقط رهاشدگی کوتاه", "تخلٍّ قصير فقط"),
    "Out of adherence": ("خارج از برنامه", "خارج الالتزام"),
    "Outcome": ("نتیجه", "النتيجة"),
    "Paused": ("مکث", "الإيقاف المؤقت"),
    "Pauses by reason": ("مکث‌ها بر اساس دلیل", "الإيقافات حسب السبب"),
    "Pending": ("در انتظار", "قيد الانتظار"),
    "Planned breaks": ("استراحت‌های برنامه‌ریزی‌شده", "الاستراحات المخططة"),
    "Position on entry": ("جایگاه هنگام ورود", "الموقع عند الدخول"),
    "Position on leaving": ("جایگاه هنگام خروج", "الموقع عند المغادرة"),
    "Queue": ("صف", "الطابور"),
    "Queues": ("صف‌ها", "الطوابير"),
    "Requested": ("درخواست‌شده", "مطلوبة"),
    "Scheduled": ("برنامه‌ریزی‌شده", "المجدول"),
    "Scheduled for": ("زمان‌بندی‌شده برای", "مجدولة في"),
    "Service level": ("سطح خدمت", "مستوى الخدمة"),
    "Sessions": ("نشست‌ها", "الجلسات"),
    "Share": ("سهم", "الحصة"),
    "Short abandon": ("رهاشدگی کوتاه", "تخلٍّ قصير"),
    "Short abandon rate": ("نرخ رهاشدگی کوتاه", "معدل التخلي القصير"),
    "Short abandons": ("رهاشدگی‌های کوتاه", "حالات التخلي القصير"),
    "Start": ("شروع", "البداية"),
    "Status": ("وضعیت", "الحالة"),
    "Step": ("گام", "الخطوة"),
    "Talk": ("مکالمه", "التحدث"),
    "Target (high)": ("هدف (بالا)", "الهدف (الأعلى)"),
    "Target (low)": ("هدف (پایین)", "الهدف (الأدنى)"),
    "Team": ("تیم", "الفريق"),
    "Time": ("زمان", "الوقت"),
    "Timeouts": ("پایان مهلت", "انتهاء المهلة"),
    "Transfer rate": ("نرخ انتقال", "معدل التحويل"),
    "Transfers": ("انتقال‌ها", "التحويلات"),
    "Unanswered": ("بی‌پاسخ", "بلا رد"),
    "Unit": ("واحد", "الوحدة"),
    "Unplanned pause": ("مکث برنامه‌ریزی‌نشده", "إيقاف غير مخطط"),
    "Utilization": ("بهره‌وری", "الاستخدام"),
    "Value": ("مقدار", "القيمة"),
    "WAPE": ("درصد خطای مطلق وزنی (WAPE)", "نسبة الخطأ المطلق الموزونة (WAPE)"),
    "Wait": ("انتظار", "الانتظار"),
    "Worked": ("کارکرد", "وقت العمل"),
    "Working in a break": ("کار در زمان استراحت", "العمل أثناء الاستراحة"),
}

#: Titles made from a value: (pattern, Persian, Arabic); ``{}`` is the value.
_PATTERNS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"Answered ≤ (\d+) s"), "پاسخ در ≤ {} ثانیه", "الرد خلال ≤ {} ث"),
    (re.compile(r"Paused: (.+)"), "مکث: {}", "إيقاف مؤقت: {}"),
)

_LANGUAGES = ("fa", "ar")


def translate(title: str, language: str) -> str | None:
    """``title`` in ``language`` (``en`` gives it back); None when the catalogue lacks it."""
    if language == "en":
        return title
    if language not in _LANGUAGES:
        return None
    index = _LANGUAGES.index(language)
    known = TITLES.get(title)
    if known is not None:
        return known[index]
    for pattern, *texts in _PATTERNS:
        match = pattern.fullmatch(title)
        if match is not None:
            return texts[index].format(match[1])
    return None
