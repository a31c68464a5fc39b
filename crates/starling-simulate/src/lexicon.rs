//! What simulated people write: sentences, hashtags and place names in eight languages.
//!
//! All text here was written for Starling; none is copied from real posts. `{city}` in a
//! sentence is replaced by a city name in the post's language. Persian sentences keep the
//! zero-width non-joiner (U+200C) where Persian spelling needs it, as real Persian posts do.

/// One language's share of the conversation and what its speakers write.
#[derive(Debug)]
pub struct Language {
    /// BCP 47 code, as platforms declare it.
    pub code: &'static str,
    /// Share of accounts that write in this language.
    pub weight: f64,
    /// Countries where its speakers post from, with weights (ISO 3166-1 alpha-2).
    pub countries: &'static [(&'static str, f64)],
    /// Everyday sentences about the unfolding crisis.
    pub background: &'static [&'static str],
    /// Hashtags used in everyday posts, most common first.
    pub hashtags: &'static [&'static str],
    /// Sentences about the breaking story (the dormitory raid).
    pub story: &'static [&'static str],
    /// Words that appear in the story's sentences and nowhere else, to find it by.
    pub story_terms: &'static [&'static str],
    /// Sentences that go with the bursting hashtag (the rooftop chants).
    pub rooftops: &'static [&'static str],
    /// Headline openers for news outlets.
    pub headline_prefixes: &'static [&'static str],
}

/// The eight languages of the scenario.
pub const LANGUAGES: &[Language] = &[
    Language {
        code: "fa",
        weight: 0.30,
        countries: &[
            ("IR", 0.86),
            ("US", 0.05),
            ("DE", 0.03),
            ("GB", 0.03),
            ("CA", 0.03),
        ],
        background: &[
            "مردم در خیابان‌های {city} جمع شده‌اند",
            "رأی ما کجاست؟",
            "اینترنت در {city} بسیار کند است",
            "نیروهای امنیتی در میدان اصلی {city} مستقر شده‌اند",
            "تظاهرات آرام در {city} ادامه دارد",
            "پیامک‌ها از دیشب قطع شده است",
            "نتایج انتخابات را قبول نداریم",
            "خبرنگاران خارجی اجازه‌ی گزارش ندارند",
            "هزاران نفر در سکوت راهپیمایی کردند",
            "لطفاً این پیام را پخش کنید",
            "فردا ساعت چهار در {city} تجمع داریم",
        ],
        hashtags: &[
            "#ایران",
            "#انتخابات",
            "#تهران",
            "#رأی_من_کجاست",
            "#IranElection",
        ],
        story: &[
            "حمله‌ی شبانه به کوی دانشگاه در {city}",
            "دانشجویان در حمله به خوابگاه {city} زخمی شده‌اند",
            "تصاویر حمله به کوی دانشگاه را ببینید",
        ],
        story_terms: &["کوی دانشگاه", "خوابگاه"],
        rooftops: &[
            "صدای شعار از پشت بام‌های {city}",
            "امشب ساعت ده همه روی پشت بام",
        ],
        headline_prefixes: &["فوری:", "گزارش:", ""],
    },
    Language {
        code: "en",
        weight: 0.26,
        countries: &[("US", 0.55), ("GB", 0.25), ("CA", 0.1), ("IR", 0.1)],
        background: &[
            "Thousands gathering in the streets of {city} right now",
            "Internet is extremely slow in {city}, SMS down since last night",
            "Security forces deployed around the main square in {city}",
            "Silent march in {city}, no chanting, just people walking",
            "Foreign journalists told to stay in their hotels",
            "Reports of arrests near the university in {city}, unconfirmed",
            "Please share, people inside cannot post themselves",
            "Where is my vote? Crowds keep growing in {city}",
            "Live updates on the situation in {city}",
            "Set your location to {city} to confuse the filters",
        ],
        hashtags: &[
            "#IranElection",
            "#iranelection",
            "#Iran",
            "#Tehran",
            "#neda",
        ],
        story: &[
            "Security forces raided the university dormitory in {city} last night",
            "Students injured in the dormitory raid in {city}, friends say",
            "Photos from the dormitory raid in {city}",
        ],
        story_terms: &["dormitory"],
        rooftops: &[
            "Chants from the rooftops all over {city} tonight",
            "Listen: the rooftops of {city} at 10pm",
        ],
        headline_prefixes: &["Breaking:", "Live:", "Analysis:", ""],
    },
    Language {
        code: "ar",
        weight: 0.14,
        countries: &[("IQ", 0.35), ("LB", 0.25), ("EG", 0.2), ("SA", 0.2)],
        background: &[
            "تجمع الآلاف في شوارع {city}",
            "انقطاع الإنترنت في {city} منذ الصباح",
            "قوات الأمن تنتشر في الساحة الرئيسية في {city}",
            "المتظاهرون يطالبون بإعادة فرز الأصوات",
            "لا توجد أخبار مؤكدة من {city} حتى الآن",
            "الصحفيون الأجانب ممنوعون من التغطية",
            "مسيرة صامتة كبيرة في {city} اليوم",
            "نتابع الأحداث في إيران لحظة بلحظة",
        ],
        hashtags: &["#إيران", "#انتخابات_إيران", "#طهران"],
        story: &[
            "اقتحام السكن الجامعي في {city} الليلة الماضية",
            "إصابة طلاب في اقتحام السكن الجامعي في {city}",
        ],
        story_terms: &["السكن الجامعي"],
        rooftops: &["هتافات من فوق أسطح المنازل في {city} الليلة"],
        headline_prefixes: &["عاجل:", ""],
    },
    Language {
        code: "es",
        weight: 0.08,
        countries: &[("ES", 0.5), ("MX", 0.3), ("AR", 0.2)],
        background: &[
            "Miles de personas se concentran en las calles de {city}",
            "Internet muy lento en {city} según testigos",
            "Fuerzas de seguridad desplegadas en la plaza principal de {city}",
            "Marcha silenciosa en {city} esta tarde",
            "Los periodistas extranjeros no pueden informar desde el país",
        ],
        hashtags: &["#Irán", "#EleccionesIrán", "#IranElection"],
        story: &["Asalto nocturno a la residencia universitaria de {city}"],
        story_terms: &["residencia universitaria"],
        rooftops: &["Gritos desde las azoteas de {city} esta noche"],
        headline_prefixes: &["Última hora:", ""],
    },
    Language {
        code: "fr",
        weight: 0.07,
        countries: &[("FR", 0.8), ("BE", 0.1), ("CA", 0.1)],
        background: &[
            "Des milliers de manifestants dans les rues de {city}",
            "Internet très lent à {city}, les SMS sont coupés",
            "Les forces de sécurité déployées sur la place principale de {city}",
            "Marche silencieuse à {city} cet après-midi",
            "Les journalistes étrangers interdits de couvrir les événements",
        ],
        hashtags: &["#Iran", "#Téhéran", "#IranElection"],
        story: &["Raid nocturne contre la résidence universitaire de {city}"],
        story_terms: &["résidence universitaire"],
        rooftops: &["Des cris depuis les toits de {city} ce soir"],
        headline_prefixes: &["Direct :", ""],
    },
    Language {
        code: "tr",
        weight: 0.07,
        countries: &[("TR", 1.0)],
        background: &[
            "{city} sokaklarında binlerce kişi toplandı",
            "{city} şehrinde internet çok yavaş",
            "Güvenlik güçleri {city} meydanında konuşlandı",
            "{city} şehrinde sessiz yürüyüş",
            "Yabancı gazetecilerin haber yapması yasaklandı",
        ],
        hashtags: &["#İran", "#İranSeçimleri"],
        story: &["{city} üniversite yurduna gece baskını"],
        story_terms: &["yurduna"],
        rooftops: &["Bu gece {city} çatılarından sloganlar yükseliyor"],
        headline_prefixes: &["Son dakika:", ""],
    },
    Language {
        code: "ru",
        weight: 0.04,
        countries: &[("RU", 0.85), ("UA", 0.15)],
        background: &[
            "Тысячи людей вышли на улицы в городе {city}",
            "Интернет в городе {city} почти не работает",
            "Силовики стянуты на главную площадь города {city}",
            "Иностранным журналистам запрещено работать",
        ],
        hashtags: &["#Иран", "#выборы"],
        story: &["Ночной налёт на университетское общежитие в городе {city}"],
        story_terms: &["общежитие"],
        rooftops: &["Сегодня ночью с крыш в городе {city} звучат лозунги"],
        headline_prefixes: &["Срочно:", ""],
    },
    Language {
        code: "de",
        weight: 0.04,
        countries: &[("DE", 0.8), ("AT", 0.1), ("CH", 0.1)],
        background: &[
            "Tausende versammeln sich auf den Straßen von {city}",
            "Das Internet in {city} ist extrem langsam",
            "Sicherheitskräfte auf dem Hauptplatz von {city}",
            "Schweigemarsch in {city} heute Nachmittag",
            "Ausländische Journalisten dürfen nicht berichten",
        ],
        hashtags: &["#Iran", "#IranWahl"],
        story: &["Nächtlicher Überfall auf das Studentenwohnheim in {city}"],
        story_terms: &["Studentenwohnheim"],
        rooftops: &["Heute Nacht Rufe von den Dächern in {city}"],
        headline_prefixes: &["Eilmeldung:", ""],
    },
];

/// A city posts can be about or geotagged in.
#[derive(Debug)]
pub struct City {
    /// English name.
    pub name: &'static str,
    /// ISO 3166-1 alpha-2 country code.
    pub country: &'static str,
    /// Country name in English, for place names.
    pub country_name: &'static str,
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east.
    pub lon: f64,
    /// Names in other languages, by language code; English is used where one is missing.
    pub names: &'static [(&'static str, &'static str)],
}

impl City {
    /// The city's name as a speaker of `language` writes it.
    pub fn name_in(&self, language: &str) -> &'static str {
        self.names
            .iter()
            .find(|(code, _)| *code == language)
            .map_or(self.name, |(_, name)| name)
    }
}

/// Cities the crisis is about (the first five) and cities people post from.
pub const CITIES: &[City] = &[
    City {
        name: "Tehran",
        country: "IR",
        country_name: "Iran",
        lat: 35.6892,
        lon: 51.3890,
        names: &[
            ("fa", "تهران"),
            ("ar", "طهران"),
            ("ru", "Тегеран"),
            ("fr", "Téhéran"),
            ("es", "Teherán"),
            ("tr", "Tahran"),
            ("de", "Teheran"),
        ],
    },
    City {
        name: "Isfahan",
        country: "IR",
        country_name: "Iran",
        lat: 32.6546,
        lon: 51.6680,
        names: &[("fa", "اصفهان"), ("ar", "أصفهان"), ("ru", "Исфахан")],
    },
    City {
        name: "Shiraz",
        country: "IR",
        country_name: "Iran",
        lat: 29.5918,
        lon: 52.5837,
        names: &[("fa", "شیراز"), ("ar", "شيراز"), ("ru", "Шираз")],
    },
    City {
        name: "Tabriz",
        country: "IR",
        country_name: "Iran",
        lat: 38.0800,
        lon: 46.2919,
        names: &[("fa", "تبریز"), ("ar", "تبريز"), ("ru", "Тебриз")],
    },
    City {
        name: "Mashhad",
        country: "IR",
        country_name: "Iran",
        lat: 36.2605,
        lon: 59.6168,
        names: &[("fa", "مشهد"), ("ar", "مشهد"), ("ru", "Мешхед")],
    },
    City {
        name: "Washington",
        country: "US",
        country_name: "United States",
        lat: 38.9072,
        lon: -77.0369,
        names: &[("fa", "واشنگتن"), ("ar", "واشنطن")],
    },
    City {
        name: "Los Angeles",
        country: "US",
        country_name: "United States",
        lat: 34.0522,
        lon: -118.2437,
        names: &[("fa", "لس‌آنجلس")],
    },
    City {
        name: "London",
        country: "GB",
        country_name: "United Kingdom",
        lat: 51.5072,
        lon: -0.1276,
        names: &[
            ("fa", "لندن"),
            ("ar", "لندن"),
            ("fr", "Londres"),
            ("es", "Londres"),
        ],
    },
    City {
        name: "Toronto",
        country: "CA",
        country_name: "Canada",
        lat: 43.6532,
        lon: -79.3832,
        names: &[("fa", "تورنتو")],
    },
    City {
        name: "Berlin",
        country: "DE",
        country_name: "Germany",
        lat: 52.5200,
        lon: 13.4050,
        names: &[("fa", "برلین")],
    },
    City {
        name: "Baghdad",
        country: "IQ",
        country_name: "Iraq",
        lat: 33.3152,
        lon: 44.3661,
        names: &[("ar", "بغداد"), ("fa", "بغداد")],
    },
    City {
        name: "Beirut",
        country: "LB",
        country_name: "Lebanon",
        lat: 33.8938,
        lon: 35.5018,
        names: &[("ar", "بيروت"), ("fr", "Beyrouth")],
    },
    City {
        name: "Cairo",
        country: "EG",
        country_name: "Egypt",
        lat: 30.0444,
        lon: 31.2357,
        names: &[("ar", "القاهرة"), ("fr", "Le Caire"), ("es", "El Cairo")],
    },
    City {
        name: "Riyadh",
        country: "SA",
        country_name: "Saudi Arabia",
        lat: 24.7136,
        lon: 46.6753,
        names: &[("ar", "الرياض")],
    },
    City {
        name: "Madrid",
        country: "ES",
        country_name: "Spain",
        lat: 40.4168,
        lon: -3.7038,
        names: &[],
    },
    City {
        name: "Mexico City",
        country: "MX",
        country_name: "Mexico",
        lat: 19.4326,
        lon: -99.1332,
        names: &[("es", "Ciudad de México")],
    },
    City {
        name: "Buenos Aires",
        country: "AR",
        country_name: "Argentina",
        lat: -34.6037,
        lon: -58.3816,
        names: &[],
    },
    City {
        name: "Paris",
        country: "FR",
        country_name: "France",
        lat: 48.8566,
        lon: 2.3522,
        names: &[("fa", "پاریس")],
    },
    City {
        name: "Brussels",
        country: "BE",
        country_name: "Belgium",
        lat: 50.8503,
        lon: 4.3517,
        names: &[("fr", "Bruxelles")],
    },
    City {
        name: "Istanbul",
        country: "TR",
        country_name: "Türkiye",
        lat: 41.0082,
        lon: 28.9784,
        names: &[("tr", "İstanbul")],
    },
    City {
        name: "Moscow",
        country: "RU",
        country_name: "Russia",
        lat: 55.7558,
        lon: 37.6173,
        names: &[("ru", "Москва")],
    },
    City {
        name: "Kyiv",
        country: "UA",
        country_name: "Ukraine",
        lat: 50.4501,
        lon: 30.5234,
        names: &[("ru", "Киев")],
    },
    City {
        name: "Vienna",
        country: "AT",
        country_name: "Austria",
        lat: 48.2082,
        lon: 16.3738,
        names: &[("de", "Wien")],
    },
    City {
        name: "Zurich",
        country: "CH",
        country_name: "Switzerland",
        lat: 47.3769,
        lon: 8.5417,
        names: &[("de", "Zürich")],
    },
];

/// How many of [`CITIES`] (from the start) are where the crisis happens.
pub const CRISIS_CITIES: usize = 5;

/// The hashtag that rises from nothing (rooftop chants). Persian, with an underscore as
/// Persian hashtags use.
pub const BURST_HASHTAG: &str = "#پشت_بام";

/// The hashtag the copy-paste campaign pushes.
pub const CAMPAIGN_HASHTAG: &str = "#StabilityNow";

/// The copy-paste campaign's texts: every campaign post is one of these with small changes.
pub const CAMPAIGN_TEXTS: &[(&str, &str)] = &[
    (
        "en",
        "Foreign media are lying about {city}. Everything is calm, people are at work.",
    ),
    (
        "fa",
        "رسانه‌های خارجی درباره‌ی {city} دروغ می‌گویند. همه چیز آرام است.",
    ),
];

/// Openers and closers the campaign accounts vary their copies with.
pub const CAMPAIGN_OPENERS: &[&str] = &["", "", "Truth: ", "FACT: ", "RT this: "];
/// See [`CAMPAIGN_OPENERS`].
pub const CAMPAIGN_CLOSERS: &[&str] = &["", " !!", " 🇮🇷", " 👍", " ✔"];

/// Emoji real posts end with, some of them sequences joined by U+200D.
pub const EMOJI: &[&str] = &["🙏", "💚", "😢", "✌️", "🕯", "👩‍👩‍👧", "🏳️‍🌈", "📢"];

/// Fragments that make text hostile to a careless display: markup, bidi overrides, joiners.
pub const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "<b>bold</b> & <i>\"quoted\"</i>",
    "\u{202e}desrever\u{202c}",
    "zero\u{200b}width\u{200d}joiner",
    "<img src=x onerror=alert(2)>",
];

/// Given names and words handles are made of.
pub const NAME_PARTS: &[&str] = &[
    "sara", "reza", "maryam", "ali", "neda", "omid", "leila", "kian", "nasrin", "babak", "layla",
    "omar", "huda", "karim", "ana", "jose", "claire", "pierre", "ayse", "mehmet", "olga", "ivan",
    "jonas", "lena", "sam", "alex", "kate", "tom", "green", "wave", "free", "voice", "news",
    "watch", "daily", "street", "persian", "tehran", "report", "live",
];

/// Display names in Persian and Arabic script, for a share of accounts.
pub const RTL_DISPLAY_NAMES: &[&str] = &[
    "مریم",
    "رضا",
    "ندا",
    "امید",
    "لیلا",
    "سارا",
    "علی",
    "کیان",
    "نسرین",
    "بابک",
    "ليلى",
    "عمر",
    "هدى",
    "كريم",
];
