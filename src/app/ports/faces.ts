/** Ports: enrolled persons and faces, face search, and the bib index of photos. */
import type { FaceQuality } from '../../domain/faces/quality.js';
import type { Box } from '../../domain/geometry.js';

/** An enrolled person, in one collection of one owner. */
export interface PersonRecord {
  readonly id: string;
  readonly ownerId: string;
  readonly collection: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** One enrolled face: its embedding, the model that made it, and where it came from. */
export interface FaceRecord {
  readonly id: string;
  readonly ownerId: string;
  readonly personId: string;
  readonly collection: string;
  readonly model: string;
  readonly embedding: Float32Array;
  readonly mediaId: string | null;
  readonly box: Box;
  readonly quality: FaceQuality;
  /** A small WebP of the face kept at enrollment (deleted with the face); null for faces enrolled before. */
  readonly thumbnail?: Uint8Array | null;
  readonly createdAt: Date;
}

/** A search hit: the best face of one person. */
export interface FaceMatch {
  readonly personId: string;
  readonly personName: string;
  readonly faceId: string;
  readonly similarity: number;
}

/** Persistence and vector search of enrolled faces (pgvector, HNSW on cosine distance). */
export interface FaceRepository {
  createPerson(person: PersonRecord): Promise<void>;
  findPerson(ownerId: string, id: string): Promise<PersonRecord | null>;
  /** The picture kept of a face at enrollment, if any. */
  faceThumbnail(ownerId: string, personId: string, faceId: string): Promise<Uint8Array | null>;
  /** The person of that name in a collection (names are unique within a collection). */
  findPersonByName(ownerId: string, collection: string, name: string): Promise<PersonRecord | null>;
  /** An owner's collections with how many persons and faces each holds. */
  listCollections(ownerId: string): Promise<{ collection: string; persons: number; faces: number }[]>;
  listPersons(ownerId: string, query: { collection?: string; limit: number; offset: number }): Promise<{ items: (PersonRecord & { faceCount: number })[]; total: number }>;
  /** Deletes a person and every embedding of theirs; false if there was none. */
  deletePerson(ownerId: string, id: string): Promise<boolean>;
  addFace(face: FaceRecord): Promise<void>;
  /** The faces of a person, without their embeddings. */
  facesOf(ownerId: string, personId: string): Promise<Omit<FaceRecord, 'embedding'>[]>;
  deleteFace(ownerId: string, personId: string, faceId: string): Promise<boolean>;
  /** The nearest faces of one owner's collection made by `model`, best face per person, most similar first. */
  search(ownerId: string, collection: string, model: string, embedding: Float32Array, limit: number): Promise<FaceMatch[]>;
}

/** A bib number read on a stored medium (a photo, or one video frame). */
export interface BibSightingRecord {
  readonly number: string;
  readonly confidence: number;
  readonly box: Box;
  readonly personBox: Box | null;
  readonly frameIndex: number | null;
  readonly timestamp: number | null;
}

/** A face seen on a stored medium, with the bib its person carries when one was read on them. */
export interface MediaFaceRecord {
  readonly id: string;
  readonly model: string;
  readonly embedding: Float32Array;
  readonly box: Box;
  readonly bibNumber: string | null;
  readonly frameIndex: number | null;
  readonly timestamp: number | null;
}

/** A medium where a bib was read: its best reading and how many times. */
export interface BibMediaHit {
  readonly mediaId: string;
  readonly name: string;
  readonly kind: 'image' | 'video';
  readonly confidence: number;
  readonly sightings: number;
  readonly box: Box;
  readonly frameIndex: number | null;
  readonly timestamp: number | null;
}

/** A face on another medium that looks like a bib carrier's face. */
export interface SimilarMediaFace {
  readonly mediaId: string;
  readonly name: string;
  readonly kind: 'image' | 'video';
  readonly faceId: string;
  readonly box: Box;
  readonly similarity: number;
  readonly frameIndex: number | null;
  readonly timestamp: number | null;
}

/** The bib index: bibs and faces per stored medium, and the searches over them. */
export interface BibRepository {
  /** Replaces what is stored for one medium (a re-analysis replaces the previous one). */
  replaceForMedia(ownerId: string, mediaId: string, bibs: readonly BibSightingRecord[], faces: readonly MediaFaceRecord[], at: Date): Promise<void>;
  /** Indexes a medium's faces unless it already has some (a bib analysis's faces, which carry bibs, are kept). */
  addFacesOnce(ownerId: string, mediaId: string, faces: readonly MediaFaceRecord[], at: Date): Promise<boolean>;
  /** Media where `number` was read, best reading first. */
  mediaWithBib(ownerId: string, number: string): Promise<BibMediaHit[]>;
  /** The faces of persons seen carrying `number`, with their embeddings. */
  facesWithBib(ownerId: string, number: string): Promise<{ id: string; mediaId: string; model: string; embedding: Float32Array }[]>;
  /** Faces of one owner made by `model`, at least `minSimilarity` to `embedding`, most similar first. */
  similarFaces(ownerId: string, model: string, embedding: Float32Array, minSimilarity: number, limit: number): Promise<SimilarMediaFace[]>;
}
