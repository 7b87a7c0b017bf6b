//! The thematic taxonomy of IO services.

use serde::Serialize;

/// One topic of the fixed list served at `/services/topics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Topic {
    pub id: i64,
    pub name: &'static str,
}

/// The thematic taxonomy of IO services (ids as on the real platform).
pub const TOPICS: &[Topic] = &[
    Topic {
        id: 0,
        name: "Altro",
    },
    Topic {
        id: 1,
        name: "Ambiente e animali",
    },
    Topic {
        id: 2,
        name: "Attività produttive e commercio",
    },
    Topic {
        id: 3,
        name: "Benessere sociale",
    },
    Topic {
        id: 4,
        name: "Casa e utenze",
    },
    Topic {
        id: 5,
        name: "Cultura, tempo libero e sport",
    },
    Topic {
        id: 6,
        name: "Educazione e formazione",
    },
    Topic {
        id: 7,
        name: "Giustizia e legge",
    },
    Topic {
        id: 8,
        name: "Lavori edilizi, catasto e urbanistica",
    },
    Topic {
        id: 9,
        name: "Mobilità e trasporti",
    },
    Topic {
        id: 10,
        name: "Redditi, patrimoni e fisco",
    },
    Topic {
        id: 11,
        name: "Servizi anagrafici e civici",
    },
    Topic {
        id: 12,
        name: "Servizi elettorali",
    },
    Topic {
        id: 13,
        name: "Sicurezza e Protezione Civile",
    },
    Topic {
        id: 14,
        name: "Suolo, spazi e beni pubblici",
    },
    Topic {
        id: 15,
        name: "Viaggi e turismo",
    },
    Topic {
        id: 16,
        name: "Vita lavorativa",
    },
    Topic {
        id: 17,
        name: "Salute",
    },
];

pub fn topic(id: i64) -> Option<&'static Topic> {
    TOPICS.iter().find(|t| t.id == id)
}
